"""A caregiver link: the invitation, both consents (either order), either side ending it, and
nothing reaching a caregiver outside both consents. Texts arrive through the signed webhook;
what reaches the fake Twilio API is what is asserted. The alert goes through the web app's
hand-off to a real worker in tests/app/evenings/test_weekly_end_to_end.py; here (no broker
listening) it is sent by the process that heard of it, which is the fallback of that hand-off.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.gsm import is_gsm7
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli, services_here
from tests.webhook_client import WebhookClient

PERSON = "+13125550142"
CAREGIVER = "+13125550177"


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    # The revoke-all scope (a STOP ends caregiver texts too); OPT_OUT_SCOPE=program before
    # 2027-01-31: tests/app/replies/test_opt_out_scope.py.
    # No worker in these tests: the alert is sent where it was heard (the CLI's way).
    return services_here({**twilio_env, "OPT_OUT_SCOPE": "sender"})


def enrolled(svc: Services, phone: str = PERSON, name: str = "Ana Lopez") -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=phone, name=name, confirmed=True,
                                                    timezone="America/Chicago", time="20:00"))


def to_caregiver(fake: FakeTwilio) -> list[str]:
    return [m.body for m in fake.messages if m.to == CAREGIVER]


def invite(twilio_cli: Cli) -> None:
    done = twilio_cli("caregiver", "add", PERSON, CAREGIVER, "--name", "Bob")
    assert done.returncode == 0, done.stderr


def caregiver_json(twilio_cli: Cli) -> dict[str, str] | None:
    shown = json.loads(twilio_cli("show", PERSON, "--json").stdout)
    return shown["caregiver"]


def test_invitation_names_the_program_and_asks_for_yes(
        svc: Services, fake_twilio: FakeTwilio, twilio_cli: Cli) -> None:
    enrolled(svc)
    invite(twilio_cli)
    [invitation] = to_caregiver(fake_twilio)
    for words in ("Foot Care Reminders", "Ana", "weekly foot-care summary", "foot problem",
                  "Reply YES", "Msg&data rates may apply", "STOP"):
        assert words in invitation, words
    assert is_gsm7(invitation)
    assert caregiver_json(twilio_cli) == {"phone": CAREGIVER, "name": "Bob",
                                          "status": "waiting_for_both"}


@pytest.mark.parametrize("order", ["caregiver first", "person first"])
def test_both_consents_in_either_order_then_one_alert_per_report(
        svc: Services, web: WebhookClient, fake_twilio: FakeTwilio, twilio_cli: Cli,
        order: str) -> None:
    enrolled(svc)
    invite(twilio_cli)
    steps = [(CAREGIVER, "YES"), (PERSON, "CARE YES")]
    if order == "person first":
        steps.reverse()
    (first_phone, first_text), (second_phone, second_text) = steps
    assert web.text(first_phone, first_text).status_code == 200
    # one side only: a foot problem reaches nobody but the person
    web.text(PERSON, "my heel has a cut")
    assert len(to_caregiver(fake_twilio)) == 1  # the invitation only
    assert caregiver_json(twilio_cli)["status"] in ("waiting_for_person",  # type: ignore[index]
                                                    "waiting_for_caregiver")
    reply = web.text(second_phone, second_text).text
    assert "weekly summary" in reply
    assert caregiver_json(twilio_cli)["status"] == "active"  # type: ignore[index]
    web.text(PERSON, "there is pus on my big toe")
    [alert] = to_caregiver(fake_twilio)[1:]
    # The category and our advice, never the person's words ("today" until 5 pm her time).
    assert re.fullmatch(r"Foot Care Reminders: Ana reported a possible foot problem \(signs of "
                        r"infection\) (today|tonight); we advised Ana to call the doctor today\. "
                        r"STOP to end caregiver texts\.", alert), alert
    actions = [e["action"] for e in svc.store.consent_history(svc.store.require(PERSON).id)]
    assert actions.count("caregiver_alert_sent") == 1
    assert {"caregiver_invited", "caregiver_yes", "care_yes"} <= set(actions)


def test_the_persons_words_never_reach_the_caregiver(
        svc: Services, web: WebhookClient, fake_twilio: FakeTwilio, twilio_cli: Cli) -> None:
    enrolled(svc)
    invite(twilio_cli)
    web.text(CAREGIVER, "yes")
    web.text(PERSON, "care yes")
    web.text(PERSON, "My toe is black \u2014 it\u2019s been like this " + "really " * 30)
    [alert] = to_caregiver(fake_twilio)[1:]
    assert is_gsm7(alert) and len(alert) <= 306
    assert "urgent care or the ER" in alert and "a dark toe or skin" in alert, alert
    assert "really" not in alert and "been like this" not in alert and '"' not in alert


@pytest.mark.parametrize("ender", ["caregiver STOP", "caregiver CARE OFF", "person CARE OFF",
                                   "operator remove", "person STOP"])
def test_after_either_side_ends_it_nothing_reaches_the_caregiver(
        svc: Services, web: WebhookClient, fake_twilio: FakeTwilio, twilio_cli: Cli,
        ender: str) -> None:
    sub = enrolled(svc)
    invite(twilio_cli)
    web.text(CAREGIVER, "YES")
    web.text(PERSON, "CARE YES")
    who, _, what = ender.partition(" ")
    if who == "operator":
        assert twilio_cli("caregiver", "remove", PERSON).returncode == 0
    else:
        web.text(CAREGIVER if who == "caregiver" else PERSON, what)
    web.text(PERSON, "my ankle is swollen and red")
    assert to_caregiver(fake_twilio) == [to_caregiver(fake_twilio)[0]]  # the invitation only
    # the person's own texts go on, whoever ended it (but their own STOP)
    assert svc.store.require(PERSON).sms_status == (
        "opted_out" if ender == "person STOP" else "active")
    # and the weekly summary does not reach the caregiver either
    sent = svc.care_sender.send(sub, "week:2026-W48", "test", "weekly", datetime.now(UTC))
    assert sent == "inactive"
    assert to_caregiver(fake_twilio) == [to_caregiver(fake_twilio)[0]]


def test_a_number_that_is_both_subscriber_and_caregiver(
        svc: Services, web: WebhookClient, fake_twilio: FakeTwilio, twilio_cli: Cli) -> None:
    enrolled(svc)
    enrolled(svc, CAREGIVER, "Bob")  # the caregiver gets their own evening texts too
    invite(twilio_cli)
    assert "weekly summary" in web.text(CAREGIVER, "YES").text
    assert svc.store.require(CAREGIVER).sms_status == "active"  # YES changed nothing else
    web.text(PERSON, "CARE YES")
    # CARE OFF from that number: only the caregiver texts end
    web.text(CAREGIVER, "CARE OFF")
    assert caregiver_json(twilio_cli)["status"] == "stopped"  # type: ignore[index]
    assert svc.store.require(CAREGIVER).sms_status == "active"
    # YES again, then STOP: one STOP cannot say which texts it meant, so everything stops
    web.text(CAREGIVER, "YES")
    assert caregiver_json(twilio_cli)["status"] == "active"  # type: ignore[index]
    web.text(CAREGIVER, "STOP")
    assert caregiver_json(twilio_cli)["status"] == "stopped"  # type: ignore[index]
    assert svc.store.require(CAREGIVER).sms_status == "opted_out"
    assert svc.store.require(PERSON).sms_status == "active"
    # START brings both back (Twilio confirms its own keyword; our reply is about the link)
    assert "weekly summary" in web.text(CAREGIVER, "START").text
    assert svc.store.require(CAREGIVER).sms_status == "active"
    assert caregiver_json(twilio_cli)["status"] == "active"  # type: ignore[index]


def test_care_and_weekly_keywords() -> None:
    from reminders.domain.keywords import parse

    for text, kind, arg in (("CARE YES", "care", "on"), ("care off", "care", "off"),
                            ("Care stop.", "care", "off"), ("WEEKLY OFF", "weekly", "off"),
                            ("weekly on!", "weekly", "on")):
        command = parse(text)
        assert (command.kind, command.arg) == (kind, arg), text
    assert parse("I care about my feet").kind == "unknown"
    assert parse("weekly").kind == "unknown"


def test_bad_input_and_refused_numbers(svc: Services, twilio_cli: Cli,
                                       web: WebhookClient) -> None:
    enrolled(svc)
    for args in (("caregiver", "add", PERSON, "not-a-number"),
                 ("caregiver", "add", PERSON, PERSON),
                 ("caregiver", "add", "+13125550100", CAREGIVER),
                 ("caregiver",)):
        done = twilio_cli(*args)
        assert done.returncode == 2, args
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    web.text(CAREGIVER, "STOP")  # a number that asked us to stop is never invited
    done = twilio_cli("caregiver", "add", PERSON, CAREGIVER)
    assert done.returncode == 2 and "START" in done.stderr
    assert caregiver_json(twilio_cli) is None
    assert "No caregiver" in web.text(PERSON, "CARE YES").text


def test_forget_removes_the_caregiver(svc: Services, web: WebhookClient,
                                      fake_twilio: FakeTwilio, twilio_cli: Cli) -> None:
    sub = enrolled(svc)
    invite(twilio_cli)
    web.text(CAREGIVER, "YES")
    web.text(PERSON, "CARE YES")
    web.text(PERSON, "blister on my heel")
    assert twilio_cli("forget", PERSON).returncode == 0
    for key in (keys.caregiver(sub.id), keys.caregiver_of(CAREGIVER),
                keys.caregiver_sent(sub.id)):
        assert not svc.redis.exists(key), key
    assert svc.caregivers(datetime.now(UTC)).links_of(CAREGIVER) == []


def test_consent_export_round_trips_through_a_csv_parser(
        svc: Services, web: WebhookClient, twilio_cli: Cli) -> None:
    enrolled(svc)
    invite(twilio_cli)
    web.text(CAREGIVER, "YES")
    web.text(PERSON, "=STOP")
    done = twilio_cli("consent-export")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    actions = [(r["channel"], r["action"], r["how"]) for r in rows]
    assert ("sms", "confirmed", "CLI (operator)") in actions
    assert ("caregiver", "caregiver_invited", "CLI (operator)") in actions
    assert ("caregiver", "caregiver_yes", "text message") in actions
    [stop] = [r for r in rows if r["action"] == "opted_out"]
    assert stop["words"] == "'=STOP"  # a cell a spreadsheet would run is never a formula
    assert stop["phone"] == "'" + PERSON
    assert stop["text_version"].startswith("sms/replies.txt.j2#stopped@")  # our confirmation
    invited = next(r for r in rows if r["action"] == "caregiver_invited")
    assert invited["text_version"].startswith("sms/care.txt.j2@")
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    jsonl = twilio_cli("consent-export", "--format", "jsonl", "--since", rows[-1]["time"])
    last = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert last and last[-1]["action"] == "opted_out" and last[-1]["phone"] == PERSON
    assert twilio_cli("consent-export", "--since", "yesterday").returncode == 2
