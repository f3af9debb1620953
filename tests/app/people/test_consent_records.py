"""Consent that stays true: the double opt-in text says the texts are not encrypted (HIPAA lets a
person choose unencrypted texts once told) and its wording's version is in the consent event;
an import keeps when the person agreed in the system they come from (`consented_at`) and starts
their program there; `consent-export` shows each person's last confirmation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain import weekly
from reminders.domain.gsm import count_segments
from reminders.settings import PROJECT_ROOT
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli

PHONE = "+13125550142"


@pytest.mark.parametrize("language,clause", [("en", "Texts are not encrypted."),
                                             ("es", "Mensajes sin cifrar.")])
def test_the_confirmation_says_not_encrypted_and_its_version_is_recorded(
        twilio_services: Services, fake_twilio: FakeTwilio, language: str, clause: str) -> None:
    sub = enrol(twilio_services.store, twilio_services.settings,
                Enrolment(phone=PHONE, language=language, timezone="America/Chicago"))
    assert twilio_services.confirmations.text(sub)
    [message] = fake_twilio.messages
    assert message.to == PHONE and clause in message.body
    count = count_segments(message.body)
    assert count.encoding == "GSM-7" and count.segments <= 2
    [sent] = [e for e in twilio_services.store.consent_history(sub.id)
              if e["action"] == "confirmation_sent"]
    name = "sms/confirm.txt.j2" if language == "en" else "sms/confirm.es.txt.j2"
    digest = hashlib.sha256((PROJECT_ROOT / "templates" / name).read_bytes()).hexdigest()
    assert sent["version"].startswith(name) and digest[:8] in sent["version"]


def write(tmp_path: Path, *rows: str) -> str:
    path = tmp_path / "people.csv"
    path.write_text("phone,name,confirmed,consented_at\n" + "\n".join(rows) + "\n")
    return str(path)


def test_import_keeps_consented_at_and_refuses_future_or_ancient_dates(
        cli: Cli, tmp_path: Path, console_services: Services) -> None:
    result = cli("import", write(
        tmp_path,
        "+13125550142,Ana,yes,2021-03-05T18:30:00-05:00",
        "+13125550143,Bea,yes,2019-11-02",
        "+13125550144,Cy,yes,2999-01-01",
        "+13125550145,Di,yes,1999-12-31T23:59:59Z",
        "+13125550146,Ed,yes,last spring",
        "+13125550147,Flo,yes,",
    ))
    assert result.returncode == 0, result.stderr
    for line, name, reason in ((4, "Cy", "in the future"), (5, "Di", "before 2000"),
                               (6, "Ed", "not an ISO 8601")):
        said = result.stdout + result.stderr
        assert f"line {line} ({name}): consented_at" in said
        assert reason in said
    store = console_services.store
    assert store.find("+13125550144") is None and store.find("+13125550145") is None
    ana = store.require("+13125550142")
    assert ana.created_at == "2021-03-05T23:30:00Z"  # the program starts when they agreed
    [event] = [e for e in store.consent_history(ana.id) if e["action"] == "confirmed"]
    assert event["words"].startswith("consented_at=2021-03-05T23:30:00Z")
    assert event["source"] == "import"
    assert store.require("+13125550143").created_at == "2019-11-02T00:00:00Z"
    flo = store.require("+13125550147")  # no date: the program starts now
    assert flo.created_at > "2026-01-01"
    # weekly summaries: Ana has been with us for years, Flo joined today
    today = weekly.summary_date_for(date.today(), 6)
    assert weekly.has_full_week(ana.created_at, today)
    assert not weekly.has_full_week(flo.created_at, today)


def test_consent_export_shows_the_last_confirmation(
        cli: Cli, console_services: Services) -> None:
    svc = console_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago"))
    svc.inbound(datetime.now(UTC)).handle(PHONE, "YES")
    other = enrol(svc.store, svc.settings, Enrolment(phone="+13125550143",
                                                     timezone="America/Chicago"))
    out = cli("consent-export", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    mine = [r for r in rows if r["subscriber_id"] == sub.id]
    [yes] = [r for r in mine if r["action"] == "opted_in"]
    assert {r["last_confirmed"] for r in mine} == {yes["time"]}
    assert {r["last_confirmed"] for r in rows if r["subscriber_id"] == other.id} == {""}
    lines = [json.loads(line) for line in
             cli("consent-export", "--format", "jsonl").stdout.splitlines()]
    assert {r["last_confirmed"] for r in lines if r["subscriber_id"] == sub.id} == {yes["time"]}


@pytest.mark.parametrize("language,word,clause", [("en", "JOIN", "Texts are not encrypted."),
                                                  ("es", "UNIRME", "Mensajes sin cifrar.")])
def test_join_welcome_says_not_encrypted_and_its_version_is_in_the_consent_event(
        twilio_services: Services, language: str, word: str, clause: str) -> None:
    reply = twilio_services.inbound(datetime.now(UTC)).handle(PHONE, word) or ""
    assert clause in reply, reply
    count = count_segments(reply)
    assert count.encoding == "GSM-7" and count.segments <= 2, (count, reply)
    sub = twilio_services.store.require(PHONE)
    assert sub.language == language
    [joined] = [e for e in twilio_services.store.consent_history(sub.id)
                if e["action"] == "confirmed"]
    # the version names the welcome's own words: the macro's source, digested
    name = "sms/replies.txt.j2" if language == "en" else "sms/replies.es.txt.j2"
    source = (PROJECT_ROOT / "templates" / name).read_text()
    macro = source[source.index("{% macro started("):]
    macro = macro[:macro.index("endmacro") + len("endmacro")]
    digest = hashlib.sha256(macro.encode()).hexdigest()[:10]
    assert joined["version"] == f"{name}#started@{digest}", joined
