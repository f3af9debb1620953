"""The evening call's words and TwiML: tonight's items spoken, then the keypad menu.

The items are the content library's long forms (the same selection as tonight's text, in the
person's language: a call has no segment budget, and spoken shorthand would be unclear); the
words around them live in templates/voice/script.toml (and script.es.toml beside it). TwiML is
built with twilio's VoiceResponse, never by hand, so what is said is always escaped XML.

The keypad (one digit, DTMF only): 1 done, 2 a foot problem, 3 then a digit for the pain score,
9 to hear it again, 7 to stop these calls. What a key does is app/voice/keypad.py's.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from reminders.domain.content import Selection
from reminders.domain.subscriber import DEFAULT_LANGUAGE, LANGUAGES, Subscriber
from reminders.messages.environment import localised

# Keys of the menu (the words in script.toml say the same digits).
DONE, FOOT_PROBLEM, SCORE, REPEAT, STOP = "1", "2", "3", "9", "7"
# Seconds the call waits for a key before it says no_key and hangs up.
GATHER_TIMEOUT = 8


@dataclass(frozen=True)
class Script:
    """One language's spoken words around the items."""

    voice: str
    language: str
    words: dict[str, str]

    def say(self, response: Any, key: str, **values: str) -> None:
        """Say the script's `key` in `response` (a VoiceResponse or a Gather inside one)."""
        text = self.words[key].format(**values) if values else self.words[key]
        response.say(text, voice=self.voice, language=self.language)


def load_script(path: Path) -> Script:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    voice, language = str(raw.pop("voice")), str(raw.pop("language"))
    return Script(voice, language, {key: str(value) for key, value in raw.items()})


class VoiceScripts:
    """The call's TwiML for a person, in their language; `action` is the signed Gather URL
    (entry/web/voice.py) that the keys are posted to."""

    def __init__(self, templates_dir: Path, program_name: str, action_url: str) -> None:
        self.program_name = program_name
        self.action_url = action_url
        self._scripts = {language: load_script(templates_dir / "voice" /
                                               localised("script.toml", language))
                         for language in LANGUAGES}

    def script(self, language: str) -> Script:
        return self._scripts.get(language, self._scripts[DEFAULT_LANGUAGE])

    def spoken(self, sub: Subscriber, selection: Selection) -> list[str]:
        """Everything the call says before the menu, in order (what the safety tests read)."""
        script = self.script(sub.language)
        first = " ".join(sub.name.split()[:1])
        said = [script.words["greeting"].format(name=f", {first}" if first else "",
                                                program=self.program_name)]
        for part, item in zip(("check", "routine", "tip", "safety"), selection.items,
                              strict=True):
            said += [script.words[part], item.text]
        return said

    def evening(self, sub: Subscriber, selection: Selection, local_date: str,
                round_: int = 0) -> str:
        """Tonight's call: the items, then the menu inside a Gather. `round_` counts the
        Gathers of one call (each key press is then its own webhook, not a replay)."""
        script = self.script(sub.language)
        response = VoiceResponse()
        for text in self.spoken(sub, selection):
            response.say(text, voice=script.voice, language=script.language)
        self._menu(response, script, self.url(sub.id, local_date, "menu", round_))
        return str(response)

    def machine(self, language: str) -> str:
        """An answering machine: a short message, no keypad."""
        response = VoiceResponse()
        self.script(language).say(response, "machine", program=self.program_name)
        response.hangup()
        return str(response)

    def menu(self, sub: Subscriber, local_date: str, round_: int) -> str:
        response = VoiceResponse()
        self._menu(response, self.script(sub.language),
                   self.url(sub.id, local_date, "menu", round_))
        return str(response)

    def ask_score(self, sub: Subscriber, local_date: str, round_: int) -> str:
        script = self.script(sub.language)
        response = VoiceResponse()
        gather = response.gather(input="dtmf", num_digits=1, timeout=GATHER_TIMEOUT,
                                 action=self.url(sub.id, local_date, "score", round_),
                                 method="POST")
        script.say(gather, "score")
        script.say(response, "no_key")
        response.hangup()
        return str(response)

    def closing(self, language: str, *texts: str) -> str:
        """Say `texts` (a reply of the texts' code, or a key of the script) and hang up."""
        script = self.script(language)
        response = VoiceResponse()
        for text in texts:
            response.say(script.words.get(text, text), voice=script.voice,
                         language=script.language)
        response.hangup()
        return str(response)

    def url(self, subscriber_id: str, local_date: str, step: str, round_: int = 0) -> str:
        query = {"s": subscriber_id, "d": local_date, "step": step, "n": round_}
        return f"{self.action_url}?{urlencode(query)}"

    def _menu(self, response: VoiceResponse, script: Script, action: str) -> None:
        gather = response.gather(input="dtmf", num_digits=1, timeout=GATHER_TIMEOUT,
                                 action=action, method="POST")
        script.say(gather, "menu")
        script.say(response, "no_key")
        response.hangup()
