"""What people really text back, and what the keyword parser must make of it.

Each row is a reply seen in the wild (or close to it) with the kind we expect and, where it
matters, the argument. The rule the table guards: a plain request is obeyed, whatever the case,
spacing, punctuation or emoji; anything ambiguous is UNKNOWN (a hint), never an action the
person did not ask for.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminders.domain.keywords import Command, parse

KINDS = {"stop", "start", "join", "help", "time", "tz", "pause", "resume", "done", "score",
         "email", "massage", "heat", "unknown"}

# (text, kind, arg); arg None means "not checked".
PLAIN: list[tuple[str, str, str | None]] = [
    # -- stop: the keywords, however they are typed -------------------------------------------
    ("STOP", "stop", ""),
    ("stop", "stop", ""),
    ("Stop", "stop", ""),
    ("sToP", "stop", ""),
    ("  STOP  ", "stop", ""),
    ("STOP\n", "stop", ""),
    ("STOP.", "stop", ""),
    ("Stop!!", "stop", ""),
    ("STOP!!! 😡", "stop", ""),
    ("STOP 🛑", "stop", ""),
    ("🛑 stop", "stop", ""),
    ("\u201cSTOP\u201d", "stop", ""),  # curly double quotes
    ("'stop'", "stop", ""),
    ("Stop :)", "stop", ""),
    ("\uff33\uff34\uff2f\uff30", "stop", ""),  # full-width STOP from a CJK keyboard
    ("STOP\u00a0", "stop", ""),  # trailing non-breaking space
    ("STOP ALL", "stop", ""),
    ("stopall", "stop", ""),
    ("Stop-all", "stop", ""),
    ("STOP STOP STOP", "stop", ""),
    ("Unsubscribe", "stop", ""),
    ("UNSUBSCRIBE.", "stop", ""),
    ("cancel", "stop", ""),
    ("Cancel subscription", "stop", ""),
    ("END", "stop", ""),
    ("quit", "stop", ""),
    ("Quit it", "stop", ""),
    ("REVOKE", "stop", ""),
    ("Opt-out", "stop", ""),
    ("opt out", "stop", ""),
    ("OPTOUT", "stop", ""),
    ("Opt out please", "stop", ""),
    ("Opt\u2013out", "stop", ""),  # an en dash from autocorrect
    # -- stop: plainly asked in words -----------------------------------------------------------
    ("Stop please", "stop", ""),
    ("please stop", "stop", ""),
    ("Pls stop!", "stop", ""),
    ("Stop. Please.", "stop", ""),
    ("Stop, thank you", "stop", ""),
    ("stop - thanks", "stop", ""),
    ("Stop 🙏", "stop", ""),
    ("just stop", "stop", ""),
    ("stop it", "stop", ""),
    ("Stop texts", "stop", ""),
    ("stop texting me", "stop", ""),
    ("Stop sending me these reminders", "stop", ""),
    ("Stop messaging me please", "stop", ""),
    ("please stop texting me", "stop", ""),
    ("stop contacting me", "stop", ""),
    ("no more texts", "stop", ""),
    ("No more messages please", "stop", ""),
    ("no more texts thank you", "stop", ""),
    ("unsubscribe me", "stop", ""),
    ("Please unsubscribe me", "stop", ""),
    ("remove me from your list", "stop", ""),
    ("Please remove me", "stop", ""),
    ("Take me off this list", "stop", ""),
    ("Don\u2019t text me", "stop", ""),  # curly apostrophe
    ("Do not text me again", "stop", ""),
    ("Please don't text me anymore", "stop", ""),
    ("I want to unsubscribe", "stop", ""),
    ("I don't want these texts anymore", "stop", ""),
    ("leave me alone", "stop", ""),
    ("\u202eSTOP", "stop", ""),  # a stray right-to-left override mark
    # -- start ----------------------------------------------------------------------------------
    ("START", "start", ""),
    ("Start.", "start", ""),
    ("yes", "start", ""),
    ("Yes!", "start", ""),
    ("YES", "start", ""),
    ("👍 yes", "start", ""),
    ("Yes 😊", "start", ""),
    ("unstop", "start", ""),
    ("UNSTOP", "start", ""),
    ("opt-in", "start", ""),
    ("JOIN", "join", ""),
    ("join", "join", ""),
    # -- help -----------------------------------------------------------------------------------
    ("HELP", "help", ""),
    ("help?", "help", ""),
    ("Help!", "help", ""),
    ("Info", "help", ""),
    ("INFO.", "help", ""),
    # -- time and time zone ---------------------------------------------------------------------
    ("TIME 9:15pm", "time", "9:15pm"),
    ("time 21:15", "time", "21:15"),
    ("Time: 8 PM", "time", "8 pm"),
    ("TIME 8:30 p.m.", "time", "8:30 p.m"),
    ("time 9.15pm", "time", "9.15pm"),
    ("Change time to 8pm", "time", "8pm"),
    ("TZ Chicago", "tz", "chicago"),
    ("tz america/chicago", "tz", "america/chicago"),
    ("TZ America/New_York", "tz", "america/new_york"),
    ("timezone New York", "tz", "new york"),
    ("Time zone: Los Angeles", "tz", "los angeles"),
    # -- pause and resume -----------------------------------------------------------------------
    ("PAUSE", "pause", ""),
    ("Pause.", "pause", ""),
    ("pause 3", "pause", "3"),
    ("PAUSE 3 days", "pause", "3"),
    ("pause for 5 days", "pause", "5"),
    ("Pause 1 day", "pause", "1"),
    ("pause 7 nights", "pause", "7"),
    ("PAUSE: 3", "pause", "3"),
    ("pause please", "pause", ""),
    ("pause 100", "pause", "100"),  # a pause, refused by inbound with its limits
    ("resume", "resume", ""),
    ("RESUME", "resume", ""),
    ("Resume please", "resume", ""),
    ("resume reminders", "resume", ""),
    # -- done -----------------------------------------------------------------------------------
    ("DONE", "done", ""),
    ("done!", "done", ""),
    ("Done ✅", "done", ""),
    ("✅ done", "done", ""),
    ("Done.", "done", ""),
    ("done for tonight", "done", ""),
    ("All done!", "done", ""),
    # -- symptom score --------------------------------------------------------------------------
    ("7", "score", "7"),
    ("7/10", "score", "7"),
    ("7 / 10", "score", "7"),
    ("3 out of 10", "score", "3"),
    ("pain 7", "score", "7"),
    ("Pain: 7", "score", "7"),
    ("Pain is 4", "score", "4"),
    ("score 3", "score", "3"),
    ("10", "score", "10"),
    ("10/10", "score", "10"),
    ("0", "score", "0"),
    ("0/10", "score", "0"),
    ("07", "score", "7"),
    ("5!", "score", "5"),
    # -- email ----------------------------------------------------------------------------------
    ("EMAIL a@b.co", "email", "a@b.co"),
    ("email off", "email", "off"),
    ("EMAIL OFF", "email", "off"),
    ("E-mail me@x.org", "email", "me@x.org"),
    ("Email: me@x.org.", "email", "me@x.org"),
    ("EMAIL STOP", "email", "stop"),  # email off, and never an SMS opt-out
]

AMBIGUOUS: list[tuple[str, str, str | None]] = [
    # the word is there, the request is not
    ("I can't stop the tingling", "unknown", ""),
    ("I can\u2019t stop the tingling", "unknown", ""),
    ("don't stop", "unknown", ""),
    ("Don\u2019t stop!", "unknown", ""),
    ("stop the pain", "unknown", ""),
    ("Should I stop walking so much?", "unknown", ""),
    ("is this the end?", "unknown", ""),
    ("when does this end", "unknown", ""),
    ("I quit smoking last week", "unknown", ""),
    ("cancel my podiatrist appointment", "unknown", ""),
    ("the end", "unknown", ""),
    ("All good from my end", "unknown", ""),  # every word a filler, still not a request
    ("stop emails", "unknown", ""),  # not an SMS opt-out; EMAIL OFF is the command
    ("My feet were burning all day and I nearly had to STOP at the shop, but the cream helped "
     "and I will keep going with the routine tonight", "unknown", ""),
    # yes, but not a plain yes
    ("Y", "unknown", ""),
    ("yes but later", "unknown", ""),
    ("yes I did it", "unknown", ""),
    ("ok", "unknown", ""),
    ("no", "unknown", ""),
    ("not done", "unknown", ""),
    # numbers that are not a 0-10 score
    ("11", "unknown", ""),
    ("-1", "unknown", ""),
    ("\u22121", "unknown", ""),  # a real minus sign
    ("\u20131", "unknown", ""),  # an en dash
    ("7.5", "unknown", ""),
    ("7-8", "unknown", ""),
    ("11/10", "unknown", ""),
    ("100", "unknown", ""),
    ("pain is bad", "unknown", ""),
    # a keyword with nothing usable after it
    ("what time is it", "unknown", ""),
    ("time", "unknown", ""),
    ("Time to go to bed", "unknown", ""),
    ("TZ", "unknown", ""),
    ("email", "unknown", ""),
    ("emails are annoying", "unknown", ""),
    ("pause until Monday", "unknown", ""),
    ("pause -3", "unknown", ""),
    # nothing at all, or nothing we can read
    ("", "unknown", ""),
    ("   ", "unknown", ""),
    ("\n\t", "unknown", ""),
    ("🙂", "unknown", ""),
    ("👍", "unknown", ""),
    ("...", "unknown", ""),
    ("x" * 10_000, "unknown", ""),
    ("stop " + "x" * 10_000, "unknown", ""),
    ("\x00\xff\ufffd", "unknown", ""),
    ("توقف", "unknown", ""),  # right-to-left text (Arabic for "stop")
    ("\u05e2\u05e6\u05d5\u05e8 \u05d1\u05d1\u05e7\u05e9\u05d4", "unknown", ""),  # Hebrew
    ("What is this?", "unknown", ""),
]

ROWS = PLAIN + AMBIGUOUS


def _id(row: tuple[str, str, str | None]) -> str:
    text = row[0]
    return repr(text if len(text) <= 40 else text[:37] + "...")


@pytest.mark.parametrize(("text", "kind", "arg"), ROWS, ids=[_id(r) for r in ROWS])
def test_reply_is_understood(text: str, kind: str, arg: str | None) -> None:
    command = parse(text)
    assert command.kind == kind, f"{text[:80]!r} -> {command}"
    if arg is not None:
        assert command.arg == arg, f"{text[:80]!r} -> {command}"


def _variants(text: str) -> list[str]:
    return [text, text.upper(), text.lower(), f"  {text}  ", text + ".", text + "!"]


@pytest.mark.parametrize(("text", "kind", "arg"), PLAIN, ids=[_id(r) for r in PLAIN])
def test_case_spacing_and_punctuation_do_not_matter(text: str, kind: str, arg: str | None) -> None:
    for variant in _variants(text):
        command = parse(variant)
        assert (command.kind, command.arg) == (kind, arg), f"{variant!r} -> {command}"


@pytest.mark.parametrize(("text", "kind", "arg"), AMBIGUOUS, ids=[_id(r) for r in AMBIGUOUS])
def test_ambiguous_stays_ambiguous_however_typed(text: str, kind: str, arg: str | None) -> None:
    for variant in _variants(text):
        assert parse(variant).kind == "unknown", variant[:80]


def test_the_persons_words_are_kept_for_the_consent_log() -> None:
    assert parse("  Stop   texting me!! ").words == "Stop texting me!!"
    assert parse("STOP\n" + "x" * 10_000).words == "STOP " + "x" * 155


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    command = parse(text)
    assert isinstance(command, Command)
    assert command.kind in KINDS
    assert len(command.words) <= 160
    if command.kind == "score":
        assert 0 <= int(command.arg) <= 10
    if command.kind == "pause":
        assert command.arg == "" or command.arg.isdigit()


@given(st.text(max_size=40), st.sampled_from(["stop", "unsubscribe", "quit", "end", "cancel"]))
def test_a_stop_word_inside_a_sentence_is_not_a_stop(prefix: str, word: str) -> None:
    # "<something unknown> stop <something unknown>" must never opt anyone out by accident.
    text = f"my toes feel {prefix} {word} the numbness"
    assert parse(text).kind != "stop"


@pytest.mark.parametrize("text", ["end it all", "I want to END IT ALL.", "i wanna die",
                                  "better off dead tbh", "STOP I want to kill myself"])
def test_despair_is_never_read_as_a_stop(text: str) -> None:
    """Words of despair are the triage's (a 988 answer; the person stays subscribed)."""
    from reminders.domain.triage import Level, triage

    assert parse(text).kind != "stop"
    assert triage(text).level == Level.CRISIS


@pytest.mark.parametrize("text", ["STOP texting me, this is worthless",
                                  "stop. my foot is bleeding",
                                  "I want to end it all, stop texting me",
                                  "ALTO, no tiene sentido", "Stop - I give up"])
def test_a_stop_wins_whatever_else_the_text_says(text: str) -> None:
    assert parse(text).kind == "stop"
