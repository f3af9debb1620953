"""Worsening scores: 4 or more on 3 evenings in a row, or 3 above the person's own 14-evening
median, open a review item and get a coaching reply (what may help tonight, and "tell your care
team this week"), in English and Spanish. The reply is read by this file's own checker, written
from shared/reference/foot-care-guidance.md, not from the templates' code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.worsening import worsening
from reminders.wiring import Services
from testing.sms_segments import count as count_segments

PHONE = "+13125550142"
FIRST = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)  # 21:00 in Chicago, the evening of Feb 28


@pytest.mark.parametrize(("tonight", "earlier", "why"), [
    (4, [4, 4], "in_a_row"),
    (6, [1, 2, 5, 7], "in_a_row"),
    (4, [4, 4, None, 4], ""),  # an evening without a score breaks the row
    (4, [4, 4, None], ""),
    (3, [5, 6], ""),  # tonight below 4
    (5, [2, 2, 1, 2, 3], "above_median"),  # median 2: 5 is 3 above
    (4, [2, 2, 1, 2, 3], ""),  # only 2 above
    (8, [6], ""),  # one earlier evening is no baseline (nor a row)
    (9, [5, 6, 6, 7, 6, 5, 6, 6, 7, 6, 5, 6, 7, 6, None], "above_median"),
    (0, [], ""),
])
def test_the_rule(tonight: int, earlier: list[int | None], why: str) -> None:
    assert worsening(tonight, earlier) == why


@pytest.fixture(params=["en", "es"])
def svc(request: pytest.FixtureRequest, console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True,
        language=request.param), FIRST - timedelta(days=30))
    return console_services


def scores(svc: Services, *texts: str) -> list[str | None]:
    """One text per evening, from FIRST on: the replies."""
    return [svc.inbound(FIRST + timedelta(days=n)).handle(PHONE, text)
            for n, text in enumerate(texts)]


def coaching(reply: str | None, language: str) -> bool:
    said = (reply or "").lower()
    return ("care team this week" in said) if language == "en" else (
        "equipo de salud esta semana" in said)


def test_three_evenings_of_4_or_more_open_an_item_and_coach(svc: Services) -> None:
    language = svc.store.require(PHONE).language
    replies = scores(svc, "5", "pain 6", "7/10")
    assert not coaching(replies[0], language) and not coaching(replies[1], language)
    assert coaching(replies[2], language), replies[2]
    [item] = svc.reviews.inbox()
    assert (item["kind"], item["level"], item["category"], item["text"]) == (
        "worsening", "soon", "worsening_in_a_row", "7/10")
    # a fourth evening joins the open item instead of opening another
    scores_after = svc.inbound(FIRST + timedelta(days=3)).handle(PHONE, "6")
    assert coaching(scores_after, language)
    [item] = svc.reviews.inbox()
    assert item["texts"] == "2"


def test_a_jump_above_their_own_median_opens_an_item(svc: Services) -> None:
    replies = scores(svc, "2", "1", "2", "3", "2", "6")
    assert coaching(replies[-1], svc.store.require(PHONE).language)
    [item] = svc.reviews.inbox()
    assert item["category"] == "worsening_above_median"


def test_steady_low_scores_and_a_gap_open_nothing(svc: Services) -> None:
    scores(svc, "2", "3", "2", "4", "3")
    svc.inbound(FIRST + timedelta(days=7)).handle(PHONE, "4")  # days without a score between
    assert svc.reviews.inbox() == []


def test_pain_that_needs_care_now_still_says_so(svc: Services) -> None:
    replies = scores(svc, "6", "7", "9 unbearable, can't walk")
    said = (replies[-1] or "").lower()
    assert "911" in said or "urgent care" in said


# -- the checker, from the reference: what a nurse reading the coaching text looks for ------
HEAT = re.compile(r"heating pad|hot[- ]water bottle|electric blanket|\bhot\b|caliente|"
                  r"almohadilla el[eé]ctrica|bolsa de agua", re.I)
SOAK_OR_HEAT = re.compile(r"\b(soak\w*|heat|remojo|calor)\b", re.I)
NEGATED = re.compile(r"\b(no|not|never|sin|nunca|ni)\b[^.;]{0,25}$", re.I)
DIAGNOSIS = re.compile(r"neuropat\w*|diabet\w*|chemo\w*|quimio\w*|cancer|c[aá]ncer", re.I)
PROMISE = re.compile(r"\b(will (ease|help|fix|stop)|cure\w*|curar\w*|quitar[aá])\b", re.I)
HEDGE = {"en": re.compile(r"\bmay\b"), "es": re.compile(r"\bpuede\b")}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_coaching_reply_is_safe_and_fits(console_services: Services,
                                            language: str) -> None:
    for score in (4, 7, 10):
        reply = console_services.replies.in_language(language).render("worsening", score=score)
        assert f"{score}/10" in reply
        assert not HEAT.search(reply), reply
        for found in SOAK_OR_HEAT.finditer(reply):  # heat and soaking only as a "no"
            assert NEGATED.search(reply[:found.start()]), (found.group(0), reply)
        assert not DIAGNOSIS.search(reply) and not PROMISE.search(reply), reply
        assert HEDGE[language].search(reply), reply  # what may help, never a promise
        assert re.search(r"pillow|almohada", reply) and re.search(r"socks|calcetines", reply)
        assert coaching(reply, language)
        segments = count_segments(reply)
        assert segments.encoding == "GSM-7" and segments.segments <= 2, segments
