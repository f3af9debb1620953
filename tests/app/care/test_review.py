"""Review items: what opens one, its deadline, its owner, and that it closes only with an
outcome and a note (app/care/review.py), through the inbound handler the webhook uses, the
`inbox` and `flags clear` commands, on a real Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.validation import InvalidInput
from reminders.wiring import Services
from tests.conftest import Cli

PHONE = "+13125550142"
NOW = datetime(2027, 3, 10, 2, 30, tzinfo=UTC)  # 20:30 in Chicago


@pytest.fixture
def svc(console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00",
        confirmed=True), NOW - timedelta(days=30))
    return console_services


def text(svc: Services, words: str, minutes: int = 0) -> str | None:
    return svc.inbound(NOW + timedelta(minutes=minutes)).handle(PHONE, words)


def items(svc: Services, closed: bool = False) -> list[dict[str, str]]:
    return svc.reviews.inbox(include_closed=closed)


@pytest.mark.parametrize(("words", "kind", "level", "category", "minutes"), [
    ("wat is dis", "text", "none", "not_understood", 4 * 60),
    ("there's a blister on my heel", "flag", "same_day", "wound", 4 * 60),
    ("I want to die", "crisis", "crisis", "self_harm", 15),
    ("mi pie tiene una ampolla", "flag", "same_day", "wound", 4 * 60),
])
def test_a_text_that_needs_a_person_opens_an_item_with_its_deadline(
        svc: Services, words: str, kind: str, level: str, category: str, minutes: int) -> None:
    reply = text(svc, words)
    [item] = items(svc)
    assert (item["kind"], item["level"], item["category"]) == (kind, level, category)
    assert item["text"] == words and item["reply"] == reply and reply
    assert item["due_by"] == (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (item["state"], item["owner"]) == ("open", "")


@pytest.mark.parametrize("words", ["DONE", "7", "no blisters today", "thanks!"])
def test_what_needs_nobody_opens_nothing(svc: Services, words: str) -> None:
    text(svc, words)
    assert items(svc) == []


def test_a_second_text_about_the_same_problem_joins_the_open_item(svc: Services) -> None:
    text(svc, "blister on my heel")
    text(svc, "the blister on my heel is bigger now", minutes=30)
    [item] = items(svc)
    assert (item["kind"], item["texts"], item["text"]) == ("flag", "2", "blister on my heel")


def test_most_urgent_first_then_oldest(svc: Services, cli: Cli) -> None:
    """A text nobody understood counts as same day (the safety net said "your doctor today"):
    with a same-day flag, the older of the two comes first."""
    text(svc, "i feel so down lately", minutes=0)
    text(svc, "blister on my heel", minutes=1)
    text(svc, "what is this", minutes=2)
    text(svc, "hopeless, I want to end my life", minutes=3)
    listed = json.loads(cli("inbox", "--json").stdout)
    assert [(row["level"], row["state"]) for row in listed] == [
        ("crisis", "needs_review"), ("same_day", "needs_review"), ("none", "needs_review"),
        ("soon", "needs_review")]
    assert {"id", "phone", "at", "level", "category", "state", "due_by", "owner",
            "outcome"} <= set(listed[0])
    assert listed[0]["phone"] == PHONE and listed[0]["local_at"].endswith("CST")


def test_an_item_closes_only_with_an_outcome_and_a_note(svc: Services, cli: Cli) -> None:
    text(svc, "what is this")
    [item] = items(svc)
    with pytest.raises(InvalidInput, match="outcome must be one of"):
        svc.reviews.close(svc.store, item["id"], "done", "called", "nurse", NOW)
    with pytest.raises(InvalidInput, match="note"):
        svc.reviews.close(svc.store, item["id"], "reached", "   ", "nurse", NOW)
    assert items(svc)[0]["state"] == "open"
    refused = cli("inbox", "close", item["id"], "--note", "called her")
    assert refused.returncode == 2 and "--outcome" in refused.stderr
    taken = cli("inbox", "take", item["id"])
    assert taken.returncode == 0, taken.stderr
    assert items(svc)[0]["owner"].startswith("cli")
    closed = cli("inbox", "close", item["id"], "--outcome", "not_a_problem", "--note",
                 "asked what the line is; explained")
    assert closed.returncode == 0, closed.stderr
    assert items(svc) == []
    [row] = json.loads(cli("inbox", "--json", "--all").stdout)
    assert (row["state"], row["outcome"]) == ("handled", "not_a_problem")
    again = cli("inbox", "close", item["id"], "--outcome", "reached", "--note", "x")
    assert again.returncode == 2 and "closed already" in again.stderr


def test_flags_clear_closes_the_flag_item_and_closing_the_item_clears_the_flag(
        svc: Services, cli: Cli) -> None:
    text(svc, "blister on my heel")
    assert cli("flags", "clear", PHONE, "--outcome", "reached", "--note",
               "spoke to Ana, seeing podiatry").returncode == 0
    [item] = items(svc, closed=True)
    assert (item["state"], item["outcome"], item["note"]) == (
        "closed", "reached", "spoke to Ana, seeing podiatry")
    text(svc, "my toe is red and swollen", minutes=60)
    [flag_item] = items(svc)
    svc.reviews.close(svc.store, flag_item["id"], "referred", "sent to foot clinic", "nurse",
                      NOW + timedelta(minutes=90))
    assert svc.store.require(PHONE).flag_until is None
    assert json.loads(cli("flags", "--json").stdout) == []


def test_an_unknown_number_gets_an_item_too(svc: Services) -> None:
    svc.inbound(NOW).handle("+13125550999", "my foot is bleeding and won't stop")
    [item] = items(svc)
    assert (item["phone"], item["subscriber"], item["level"]) == ("+13125550999", "",
                                                                   "emergency")


def test_forget_erases_the_items(svc: Services, cli: Cli) -> None:
    text(svc, "blister on my heel")
    assert cli("forget", PHONE).returncode == 0
    assert items(svc, closed=True) == []
    assert not [k for k in svc.redis.scan_iter("fc:review:*") if not k.endswith(b":seq")]


def test_forget_also_erases_what_their_number_sent_before_it_was_enrolled(
        console_services: Services, cli: Cli) -> None:
    svc = console_services
    svc.inbound(NOW).handle(PHONE, "who is this? my toe is bleeding a little")
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, name="Ana", confirmed=True), NOW)
    assert len(items(svc)) == 1
    assert cli("forget", PHONE).returncode == 0
    assert items(svc, closed=True) == []
