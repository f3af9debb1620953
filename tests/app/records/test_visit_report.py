"""`reminders report`: the one-page PDF a person brings to a clinic visit, read back as text.

A person gets nine evenings of reminders through the fake Twilio (six confirmed delivered by a
signed status callback, one undelivered, two with no receipt), texts DONE and 0-10 scores on
some of them, reports a blister that a coordinator closes as referred, then a red swollen toe
that stays open. The PDF (pdftotext) must say exactly those figures, on one page.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import flags as flags_store
from reminders.storage import nights
from reminders.wiring import Services
from tests.conftest import Cli, need
from tests.webhook_client import answering_here

PHONE = "+13125550177"
ZONE = ZoneInfo("America/Chicago")
SCORES = {2: 6, 4: 5, 6: 4, 8: 3}  # evening number -> the score texted that evening
DONE_ON = (1, 2, 4, 7)
DELIVERED = (0, 1, 2, 3, 4, 5)
UNDELIVERED = (6,)


def pdf_text(path: Path) -> str:
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines()
                    if line.startswith("Pages:")))


def local_day(iso: str) -> str:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZONE).date().isoformat()


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), ZONE).isoformat()


@pytest.fixture
def person_with_history(twilio_services: Services, twilio_cli: Cli) -> list[date]:
    svc = twilio_services
    today = datetime.now(UTC).astimezone(ZONE).date()
    days = [today - timedelta(days=9 - n) for n in range(9)]
    sub = enrol(svc.store, svc.settings, Enrolment(  # enrolled the morning of the first one
        phone=PHONE, name="Maria Lopez", timezone="America/Chicago", time="20:00",
        confirmed=True, cause="diabetes"), datetime.combine(days[0], time(9, 0), ZONE))
    with answering_here(svc) as twilio:
        for n, day in enumerate(days):
            evening = datetime.combine(day, time(20, 0), ZONE)
            assert svc.sender.deliver(sub.id, day, evening, ignore_late=True).channels == {
                "sms": "sent"}
            sid = nights.read(svc.redis, sub.id, day)["sms_id"]
            status = "delivered" if n in DELIVERED else "undelivered" if n in UNDELIVERED else ""
            if status:
                answer = twilio.post("/sms/status", {
                    "MessageSid": sid, "MessageStatus": status, "To": PHONE,
                    "AccountSid": twilio_services.settings.twilio_account_sid})
                assert answer.status_code in (200, 204), answer.text
    for n in DONE_ON:
        assert twilio_cli("reply", PHONE, "DONE", "--at", at(days[n], 21)).returncode == 0
    for n, score in SCORES.items():
        assert twilio_cli("reply", PHONE, str(score), "--at", at(days[n], 21, 5)).returncode == 0
    blister = twilio_cli("reply", PHONE, "got a blister on my left heel", "--json",
                         "--at", at(days[3], 21, 30))
    assert json.loads(blister.stdout)["flag"] is True
    cleared = twilio_cli("flags", "clear", PHONE, "--outcome", "referred",
                         "--note", "sent to the foot clinic")
    assert cleared.returncode == 0, cleared.stderr
    toe = twilio_cli("reply", PHONE, "my big toe is red and swollen", "--json",
                     "--at", at(days[7], 21, 30))
    assert json.loads(toe.stdout)["flag"] is True
    return days


def test_the_pdf_says_what_the_service_recorded_on_one_page(
        twilio_services: Services, twilio_cli: Cli, person_with_history: list[date],
        tmp_path: Path) -> None:
    svc, days = twilio_services, person_with_history
    # What the records say, read straight from the night records.
    records = nights.read_many(svc.redis, svc.store.require(PHONE).id, days)
    assert sum(r.get("sms_status") == "delivered" for r in records) == len(DELIVERED)
    assert sum(r.get("done") == "1" for r in records) == len(DONE_ON)
    assert [int(r["score"]) for r in records if "score" in r] == list(SCORES.values())

    out = tmp_path / "visit.pdf"
    result = twilio_cli("report", PHONE, "--weeks", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert pages(out) == 1
    text = " ".join(pdf_text(out).split())
    assert "Maria Lopez" in text and PHONE in text
    first = days[-1] + timedelta(days=1) - timedelta(days=4 * 7 - 1)  # today is the last
    assert f"4 weeks: {first:%b} {first.day}, {first.year} to" in text
    assert f"joined {days[0]:%b} {days[0].day}, {days[0].year}" in text
    assert "9 evenings a reminder was sent" in text
    assert "6 evenings the phone or mailbox confirmed it arrived" in text
    assert "4 evenings they did the routine (texted DONE)" in text
    assert "4 evenings they rated their symptoms" in text
    assert "Lowest 3, highest 6, latest 3" in text
    assert "Score (0-10)" in text and "Date" in text  # the chart's axis labels
    # The problems as the service recorded them: the closed one in the audit log (opened,
    # then cleared as referred), the open one in the person's flag list.
    sub = svc.store.require(PHONE)
    opened = [e for e in svc.store.consent_history(sub.id) if e["action"].startswith("flag:")]
    first_day = local_day(opened[0]["at"])
    assert f"{first_day} {opened[0]['action'][5:]} referred" in text
    (still_open,) = flags_store.read(svc.redis, sub.id)
    assert f"{local_day(still_open['at'])} {still_open['category']} open: follow-up pending" in text
    assert "Evening time: 8:00 PM (Chicago time)" in text
    assert "Cause of foot symptoms: diabetes" in text
    assert "Massage routines: yes" in text and "Warmth routines: no" in text
    # The routines of the four DONE evenings, the three most done (four in all when two match).
    done_counts = [int(n) for n in re.findall(r"\((\d+) evenings?\)", text)]
    assert "Routines done most" in text and 3 <= sum(done_counts) <= len(DONE_ON)


def test_the_report_is_audited_with_who_and_whose(
        twilio_cli: Cli, twilio_services: Services, tmp_path: Path) -> None:
    enrol(twilio_services.store, twilio_services.settings,
          Enrolment(phone=PHONE, name="Ana", confirmed=True, time="20:00"))
    out = tmp_path / "visit.html"
    assert twilio_cli("report", PHONE, "--format", "html", "--out", str(out)).returncode == 0
    assert "<svg" in out.read_text() and "No scores in these weeks" in out.read_text()
    exported = twilio_cli("consent-export", "--format", "jsonl").stdout.splitlines()
    lines = [json.loads(line) for line in exported]
    audit = [line for line in lines if line["action"] == "visit_report_html"]
    sub_id = twilio_services.store.require(PHONE).id
    assert len(audit) == 1 and audit[0]["words"].startswith("cli:")
    assert f"subscriber {sub_id}" in audit[0]["words"]


@pytest.mark.parametrize("args,message", [
    (["+13125550000"], "no subscriber"),
    ([PHONE, "--weeks", "0"], "--weeks must be between 1 and 52"),
    ([PHONE, "--weeks", "53"], "--weeks must be between 1 and 52"),
    ([PHONE, "--format", "docx"], "invalid choice"),
])
def test_bad_report_input_exits_2_and_writes_nothing(
        twilio_cli: Cli, twilio_services: Services, tmp_path: Path, args: list[str],
        message: str) -> None:
    enrol(twilio_services.store, twilio_services.settings,
          Enrolment(phone=PHONE, confirmed=True, time="20:00"))
    out = tmp_path / "r.pdf"
    result = twilio_cli("report", *args, "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr.lower() or message in result.stderr, result.stderr
    assert not out.exists() and list(tmp_path.glob("*.part")) == []


def test_report_into_a_missing_folder_is_one_clear_line(
        twilio_cli: Cli, twilio_services: Services, tmp_path: Path) -> None:
    enrol(twilio_services.store, twilio_services.settings,
          Enrolment(phone=PHONE, confirmed=True, time="20:00"))
    result = twilio_cli("report", PHONE, "--out", str(tmp_path / "nope" / "r.pdf"))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_the_report_shows_the_temperatures_the_person_texted(
        twilio_cli: Cli, twilio_services: Services, tmp_path: Path) -> None:
    """TEMP texted in Fahrenheit one evening and in Celsius the next (as a person with a
    thermometer switched to Celsius would): the report lists both evenings in Celsius with the
    gap between the feet (91 - 86 °F = 5 °F = 2.8 °C; 33.5 - 31.0 °C = 2.5 °C)."""
    enrol(twilio_services.store, twilio_services.settings,
          Enrolment(phone=PHONE, name="Ana", confirmed=True, time="20:00"))
    assert twilio_cli("set", PHONE, "temp_monitoring=true").returncode == 0
    today = datetime.now(UTC).astimezone(ZONE).date()
    first, second = today - timedelta(days=2), today - timedelta(days=1)
    for day, words in ((first, "TEMP L 86 R 91"), (second, "temp izq 31 der 33,5")):
        answer = twilio_cli("reply", PHONE, words, "--at", at(day, 21))
        assert answer.returncode == 0, answer.stderr
    out = tmp_path / "visit.html"
    assert twilio_cli("report", PHONE, "--format", "html", "--out", str(out)).returncode == 0
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([\d.]+) °C</td><td>([\d.]+) °C</td>"
                      r"<td>([\d.]+) °C</td></tr>", out.read_text())
    assert rows == [(first.isoformat(), "30.0", "32.8", "2.8"),
                    (second.isoformat(), "31.0", "33.5", "2.5")]
