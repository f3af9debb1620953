"""Reply texts, rendered from the macros in templates/sms/replies.txt.j2 (or its translation,
replies.<lang>.txt.j2) and made GSM-7, and the other one-off texts (the double opt-in request)
from their own templates."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from reminders.domain.gsm import to_gsm7
from reminders.domain.subscriber import DEFAULT_LANGUAGE
from reminders.messages.environment import environment, localised


class Replies:
    def __init__(self, templates_dir: Path, language: str = DEFAULT_LANGUAGE,
                 _family: dict[str, Replies] | None = None) -> None:
        self.templates_dir = templates_dir
        self.language = language
        self._env = environment(templates_dir)
        self._replies = localised("sms/replies.txt.j2", language)
        self._module = self._env.get_template(self._replies).module
        # One Replies per language, shared: in_language() is a lookup, not a template load.
        self._family = _family if _family is not None else {}
        self._family.setdefault(language, self)

    def in_language(self, language: str) -> Replies:
        """The same replies in `language` (one of subscriber.LANGUAGES)."""
        if language not in self._family:
            Replies(self.templates_dir, language, self._family)
        return self._family[language]

    def names(self) -> list[str]:
        """Every reply this language has (the macros of its replies template)."""
        return sorted(n for n in dir(self._module) if not n.startswith("_"))

    def render(self, name: str, **context: Any) -> str:
        macro = getattr(self._module, name)
        return to_gsm7(" ".join(str(macro(**context)).split()))

    def version(self, name: str) -> str:
        """The wording of reply `name` as sent, for the consent log: "sms/replies.txt.j2#name@"
        and a digest of that macro's source (it changes when, and only when, its words do)."""
        source = self._env.loader.get_source(self._env, self._replies)[0]  # type: ignore[union-attr]
        match = re.search(r"{%\s*macro " + re.escape(name) + r"\(.*?endmacro", source, re.S)
        digest = hashlib.sha256((match.group(0) if match else source).encode()).hexdigest()[:10]
        return f"{self._replies}#{name}@{digest}"

    def template_version(self, template: str) -> str:
        """The wording of a whole template of templates/sms/ (`confirm`), as version()."""
        name = localised(f"sms/{template}.txt.j2", self.language)
        source = self._env.loader.get_source(self._env, name)[0]  # type: ignore[union-attr]
        return f"{name}@{hashlib.sha256(source.encode()).hexdigest()[:10]}"

    def text(self, template: str, **context: Any) -> str:
        """A whole template of templates/sms/ (`confirm` -> sms/confirm.txt.j2), one line."""
        name = localised(f"sms/{template}.txt.j2", self.language)
        body = self._env.get_template(name).render(**context)
        return to_gsm7(" ".join(body.split()))
