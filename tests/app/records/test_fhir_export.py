"""`reminders fhir-export`: every resource validates against the FHIR R4B models (fhir.resources),
references resolve within the export, scores come back exactly, files are 0600, the words of
texts stay out unless --with-text, and the export is audited.

The people and their records are made the way the service makes them: enrolled, reminded
(console backend), texting scores, DONE, STOP/START and a foot problem through `reminders
reply`, a coordinator closing a problem with `flags clear`.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B import get_fhir_model_class

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import nights
from reminders.wiring import Services
from tests.conftest import Cli

ANA, BO = "+13125550181", "+13125550182"
CHICAGO, LA = ZoneInfo("America/Chicago"), ZoneInfo("America/Los_Angeles")
ANA_SCORES = {1: 7, 2: 6, 4: 2}  # days ago -> score
BO_SCORES = {1: 10, 3: 0}
TYPES = ("Patient", "Observation", "Flag", "Communication", "Consent")


def at(day: date, zone: ZoneInfo, hour: int = 21) -> str:
    return datetime.combine(day, time(hour, 0), zone).isoformat()


@pytest.fixture
def people(console_services: Services, cli: Cli) -> dict[str, date]:
    svc = console_services
    today = datetime.now(UTC).astimezone(CHICAGO).date()
    ana = enrol(svc.store, svc.settings, Enrolment(
        phone=ANA, name="Ana Lima", timezone="America/Chicago", time="20:00", confirmed=True))
    bo = enrol(svc.store, svc.settings, Enrolment(
        phone=BO, name="Bo Chen", timezone="America/Los_Angeles", time="19:30",
        confirmed=True, language="es"))
    for sub, zone, scores in ((ana, CHICAGO, ANA_SCORES), (bo, LA, BO_SCORES)):
        for ago, score in scores.items():
            day = today - timedelta(days=ago)
            evening = datetime.combine(day, sub.send_time, zone)
            assert svc.sender.deliver(sub.id, day, evening, ignore_late=True).channels == {
                "sms": "sent"}
            reply = cli("reply", sub.phone or "", str(score), "--at", at(day, zone))
            assert reply.returncode == 0, reply.stderr
    assert cli("reply", ANA, "DONE", "--at", at(today - timedelta(days=1), CHICAGO)
               ).returncode == 0
    assert json.loads(cli("reply", ANA, "my heel has a blister", "--json").stdout)["flag"]
    assert cli("flags", "clear", ANA, "--outcome", "reached", "--note", "seen by nurse"
               ).returncode == 0
    assert json.loads(cli("reply", BO, "tengo el pie hinchado y rojo", "--json").stdout)["flag"]
    assert cli("reply", BO, "STOP").returncode == 0
    assert cli("reply", BO, "START").returncode == 0
    assert cli("reply", ANA, "purple monkey dishwasher").returncode == 0  # to the inbox
    return {"today": today}


def export(cli: Cli, out: Path, *args: str) -> dict[str, list[dict[str, Any]]]:
    result = cli("fhir-export", "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    found = {}
    for kind in TYPES:
        path = out / f"{kind}.ndjson"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, kind
        found[kind] = [json.loads(line) for line in path.read_text().splitlines()]
    return found


def references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference":
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def test_every_resource_validates_and_every_reference_resolves(
        people: dict[str, date], cli: Cli, tmp_path: Path) -> None:
    found = export(cli, tmp_path / "fhir")
    for kind, resources in found.items():
        assert resources, f"no {kind}"
        model = get_fhir_model_class(kind)
        for resource in resources:
            assert resource["resourceType"] == kind
            model.model_validate(resource)  # raises on any invalid field
    patients = {f"Patient/{p['id']}" for p in found["Patient"]}
    assert len(patients) == 2
    every = [r for kind in TYPES[1:] for res in found[kind] for r in references(res)]
    assert every and set(every) <= patients
    ids = [r["id"] for kind in TYPES for r in found[kind]]
    assert len(ids) == len(set(ids))  # an id names one resource


def test_scores_come_back_exactly_with_the_persons_offset(
        people: dict[str, date], console_services: Services, cli: Cli, tmp_path: Path) -> None:
    found = export(cli, tmp_path / "fhir")
    phone_of = {f"Patient/{p['id']}": p["identifier"][0]["value"].removeprefix("tel:")
                for p in found["Patient"]}
    scores = [o for o in found["Observation"] if o["code"]["coding"][0]["code"] == "72514-3"]
    reimported = {(phone_of[o["subject"]["reference"]],
                   datetime.fromisoformat(o["effectiveDateTime"]).date()): o["valueInteger"]
                  for o in scores}
    today = people["today"]
    # What the service recorded, read from the night records themselves.
    expected = {}
    for phone, scores_sent in ((ANA, ANA_SCORES), (BO, BO_SCORES)):
        sub = console_services.store.require(phone)
        days = [today - timedelta(days=ago) for ago in scores_sent]
        for day, record in zip(days, nights.read_many(console_services.redis, sub.id, days),
                               strict=True):
            expected[(phone, day)] = int(record["score"])
    assert reimported == expected
    assert sorted(expected.values()) == sorted([*ANA_SCORES.values(), *BO_SCORES.values()])
    offsets = {datetime.fromisoformat(o["effectiveDateTime"]).utcoffset() for o in scores
               if phone_of[o["subject"]["reference"]] == ANA}
    assert offsets == {datetime.combine(today, time(20), CHICAGO).utcoffset()}
    assert all(o["category"][0]["coding"][0]["code"] == "survey" for o in scores)


def test_flags_consents_and_messages_say_what_happened(
        people: dict[str, date], cli: Cli, tmp_path: Path) -> None:
    found = export(cli, tmp_path / "fhir")
    patient = {p["name"][0]["text"]: f"Patient/{p['id']}" for p in found["Patient"]}
    flags = {(f["subject"]["reference"], f["status"]) for f in found["Flag"]}
    assert flags == {(patient["Ana Lima"], "inactive"), (patient["Bo Chen"], "active")}
    closed = next(f for f in found["Flag"] if f["status"] == "inactive")
    assert closed["period"]["start"] <= closed["period"]["end"]
    bo = [(c["provision"]["type"]) for c in found["Consent"]
          if c["patient"]["reference"] == patient["Bo Chen"]]
    assert bo == ["permit", "deny", "permit"]  # enrolled, STOP, START (time order)
    sent = [c for c in found["Communication"] if "recipient" in c]
    assert len(sent) == len(ANA_SCORES) + len(BO_SCORES)  # one reminder per evening
    assert all(c["status"] == "completed" and c["medium"][0]["text"] == "SMS" for c in sent)
    received = [c for c in found["Communication"] if "sender" in c]
    assert received and not any("payload" in c for c in found["Communication"])
    text = (tmp_path / "fhir" / "Communication.ndjson").read_text()
    assert "dishwasher" not in text and "STOP" not in text


def test_with_text_adds_the_words_received(
        people: dict[str, date], cli: Cli, tmp_path: Path) -> None:
    found = export(cli, tmp_path / "fhir", "--with-text")
    words = [p["contentString"] for c in found["Communication"] for p in c.get("payload", [])]
    assert "purple monkey dishwasher" in words and "STOP" in words


def test_one_person_since_a_date_and_the_audit_line(
        people: dict[str, date], cli: Cli, console_services: Services, tmp_path: Path) -> None:
    found = export(cli, tmp_path / "bo", "--person", BO)
    assert [p["name"][0]["text"] for p in found["Patient"]] == ["Bo Chen"]
    bo = f"Patient/{found['Patient'][0]['id']}"
    assert {r for kind in TYPES[1:] for res in found[kind] for r in references(res)} == {bo}
    later = export(cli, tmp_path / "later", "--since",
                   (datetime.now(UTC) + timedelta(days=3)).isoformat())
    assert len(later["Patient"]) == 2
    assert all(later[kind] == [] for kind in ("Observation", "Consent", "Communication"))
    lines = [json.loads(line) for line in
             cli("consent-export", "--format", "jsonl").stdout.splitlines()]
    audits = [line["words"] for line in lines if line["action"] == "fhir_export"]
    bo_id = console_services.store.require(BO).id
    assert audits[0].startswith("cli:") and f"subscriber {bo_id}" in audits[0]
    assert "with_text=no" in audits[0] and "everyone" in audits[1]


@pytest.mark.parametrize("args,message", [
    (["--since", "last tuesday"], "--since must be an ISO 8601"),
    (["--person", "+13125550000"], "no subscriber"),
])
def test_bad_export_input_exits_2_and_writes_nothing(
        people: dict[str, date], cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli("fhir-export", "--out", str(tmp_path / "x"), *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr.lower() or message in result.stderr, result.stderr
    assert not (tmp_path / "x").exists()


def test_out_naming_a_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("keep me")
    result = cli("fhir-export", "--out", str(tmp_path / "f"))
    assert result.returncode == 2 and "is a file" in result.stderr
    assert (tmp_path / "f").read_text() == "keep me"


def test_a_temperature_pair_is_a_valid_observation_of_both_soles() -> None:
    """Ready for the TEMP readings (not recorded yet): the Observation the export will write."""
    from reminders.domain import fhir

    at_evening = datetime(2026, 12, 1, 20, 0, tzinfo=CHICAGO)
    found = fhir.temperatures("123456789", at_evening.date(), at_evening, 31.2, 33.8)
    get_fhir_model_class("Observation").model_validate(found)
    values = {c["code"]["text"]: c["valueQuantity"]["value"] for c in found["component"]}
    assert values == {"Left sole": 31.2, "Right sole": 33.8, "Difference": 2.6}
    assert found["effectiveDateTime"] == "2026-12-01T20:00:00-06:00"
    assert found["subject"] == {"reference": "Patient/123456789"}


def test_an_unreadable_record_is_left_out_with_its_events(
        people: dict[str, date], cli: Cli, console_services: Services, tmp_path: Path) -> None:
    """A record whose time zone no longer decodes (as a bad hand edit leaves it): the export
    still runs, without that Patient, and without the events that would point to it."""
    from reminders.storage import keys
    from reminders.storage import subscriber_codec as subscriber

    bo = console_services.store.require(BO)
    console_services.redis.hset(keys.subscriber(bo.id),
                                mapping={subscriber.TIMEZONE: "America/Nowhere"})
    found = export(cli, tmp_path / "fhir")
    assert [p["name"][0]["text"] for p in found["Patient"]] == ["Ana Lima"]
    ana = f"Patient/{found['Patient'][0]['id']}"
    assert {r for kind in TYPES[1:] for res in found[kind] for r in references(res)} == {ana}
