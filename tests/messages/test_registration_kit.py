"""`reminders registration-kit --out DIR`: what a 10DLC campaign review asks for (CTIA's
Messaging Principles; Twilio's rejection codes 30882 terms, 30908 privacy, 30910 English
fields). Every sample is what the service sends (the same templates), fits GSM-7 in two
segments, and names the program and the way to get help and to stop.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reminders.domain.gsm import count_segments
from tests.conftest import Cli

PROGRAM = "Sole Support Clinic"
FILES = {"campaign.md", "sms-terms-and-privacy.md", "opt-in.html", "samples.txt",
         "registration.json", "samples.json"}
# Words a Spanish text has and an English one does not (30910: fields must be English).
SPANISH = re.compile(r"\b(para|mensajes?|noche|ayuda|responda|pies|usted)\b", re.IGNORECASE)


@pytest.fixture
def kit(base_env: dict[str, str], tmp_path: Path) -> Path:
    out = tmp_path / "kit"
    env = {**base_env, "PROGRAM_NAME": PROGRAM, "SUPPORT_CONTACT": "555-0100"}
    done = Cli(env)("registration-kit", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_the_kit_has_every_file(kit: Path) -> None:
    assert {p.name for p in kit.iterdir()} == FILES


def test_every_sample_fits_two_gsm7_segments_and_names_program_help_and_stop(kit: Path) -> None:
    samples = json.loads((kit / "samples.json").read_text())
    kinds = {(s["kind"], s["language"]) for s in samples}
    assert {(k, lang) for k in ("confirmation", "welcome", "nightly", "weekly", "help", "stop")
            for lang in ("en", "es")} <= kinds
    for sample in samples:
        body = sample["body"]
        count = count_segments(body)
        assert count.encoding == "GSM-7" and count.segments <= 2, sample
        assert PROGRAM in body, sample
        stop, help_ = ("STOP", "HELP") if sample["language"] == "en" else ("ALTO", "AYUDA")
        if sample["kind"] == "stop":  # the opt-out confirmation: says it is over, and START
            assert re.search(r"no more texts|no recibira mas", body), body
            continue
        assert stop in body, sample
        if sample["kind"] != "help":  # the HELP answer is what HELP gets
            assert help_ in body, sample
    # the Spanish texts come with an English translation of the same kind
    for sample in samples:
        if sample["language"] == "es":
            assert sample["english"] and not SPANISH.search(sample["english"]), sample
            assert sample["english"] in (kit / "samples.txt").read_text()


def test_the_welcome_fits_two_segments_and_says_the_texts_are_not_encrypted(kit: Path) -> None:
    samples = json.loads((kit / "samples.json").read_text())
    for sample in samples:
        assert count_segments(sample["body"]).segments <= 2, sample
        if sample["kind"] == "welcome":
            said = {"en": "Texts are not encrypted", "es": "Mensajes sin cifrar"}
            assert said[sample["language"]] in sample["body"], sample


def test_the_nightly_names_the_program_and_help(kit: Path) -> None:
    samples = json.loads((kit / "samples.json").read_text())
    for sample in samples:
        if sample["kind"] == "nightly":
            help_ = "HELP" if sample["language"] == "en" else "AYUDA"
            assert PROGRAM in sample["body"] and help_ in sample["body"], sample


def test_registration_fields_are_english_and_say_what_carriers_check(kit: Path) -> None:
    fields = json.loads((kit / "registration.json").read_text())
    texts = [fields["description"], fields["message_flow"], fields["opt_in_message"],
             fields["opt_out_message"], fields["help_message"], *fields["sample_messages"]]
    for text in texts:
        assert text.isascii() and not SPANISH.search(text), text
    assert 2 <= len(fields["sample_messages"]) <= 5
    flow = fields["message_flow"]
    for needed in ("JOIN", "YES", "Msg&data rates may apply", "HELP", "STOP", "not encrypted"):
        assert needed in flow, needed
    optin = fields["opt_in_message"]
    assert PROGRAM in optin and "rates may apply" in optin and "each evening" in optin
    assert "STOP" in fields["opt_out_keywords"] and "HELP" in fields["help_keywords"]


def test_terms_and_privacy_clauses(kit: Path) -> None:
    terms = " ".join((kit / "sms-terms-and-privacy.md").read_text().split())
    for needed in ("Msg&data rates may apply", "1 text each evening", "HELP", "STOP",
                   "555-0100", "not encrypted", "not be shared with any third parties",
                   "marketing", "not a condition of care"):
        assert needed.lower() in terms.lower(), needed


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_the_call_to_action_page_is_html_a_clinic_can_publish(kit: Path) -> None:
    html = (kit / "opt-in.html").read_text()
    assert html.startswith("<!doctype html>") and '<html lang="en">' in html
    parser = _Text()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    for needed in (PROGRAM, "JOIN", "YES", "Msg&data rates may apply", "HELP", "STOP",
                   "not encrypted", "911", "do not sell or share"):
        assert needed in text, needed


def test_an_out_that_is_a_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    done = cli("registration-kit", "--out", str(target))
    assert done.returncode == 2 and "not a folder" in done.stderr
    assert target.read_text() == "keep me"
