"""Email links expire after a year: an old link gets a page saying what to do instead (410),
never a bare error, and changes nothing; links mailed before tokens carried a date still work.

What counts is the HTTP response and the person's record in Redis.
"""

from __future__ import annotations

import time

import pytest
import requests
from itsdangerous import Signer

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.messages import tokens
from reminders.wiring import Services
from tests.conftest import make_services
from tests.webhook_client import serve

ADDRESS = "ana.lima@example.org"
DAY = 24 * 3600


@pytest.fixture
def svc(plain_email_env: dict[str, str]) -> Services:
    return make_services(plain_email_env)


def person(svc: Services, confirmed: bool) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(
        email=ADDRESS, channel="email", timezone="America/Chicago", time="20:00",
        confirmed=confirmed))


def token(svc: Services, purpose: str, sub: Subscriber, days_ago: float) -> str:
    return tokens.make_token(svc.settings.secret_key, purpose, sub.id, ADDRESS,
                             issued=time.time() - days_ago * DAY)


def email_status(svc: Services, sub: Subscriber) -> str:
    found = svc.store.get(sub.id)
    assert found is not None
    return found.email_status


def test_an_unsubscribe_link_older_than_a_year_says_what_to_do(svc: Services) -> None:
    sub = person(svc, confirmed=True)
    old = token(svc, tokens.UNSUBSCRIBE, sub, 366)
    with serve(svc) as base:
        for method in (requests.get, requests.head, requests.post):
            response = method(f"{base}/unsubscribe", params={"token": old}, timeout=10)
            assert response.status_code == 410
            if method is not requests.head:
                assert "expired" in response.text and "EMAIL OFF" in response.text
                assert "most recent email" in response.text
            assert response.headers["Cache-Control"] == "no-store"
    assert email_status(svc, sub) == "active"


def test_a_confirmation_link_older_than_a_year_says_how_to_get_a_new_one(svc: Services) -> None:
    sub = person(svc, confirmed=False)
    assert email_status(svc, sub) == "pending"
    old = token(svc, tokens.CONFIRM_EMAIL, sub, 400)
    with serve(svc) as base:
        for method in (requests.get, requests.post):
            response = method(f"{base}/email/confirm", params={"token": old}, timeout=10)
            assert response.status_code == 410
            assert "expired" in response.text and "EMAIL you@example.com" in response.text
    assert email_status(svc, sub) == "pending"


def test_a_link_younger_than_a_year_still_acts(svc: Services) -> None:
    sub = person(svc, confirmed=True)
    recent = token(svc, tokens.UNSUBSCRIBE, sub, 364)
    with serve(svc) as base:
        assert requests.get(f"{base}/unsubscribe", params={"token": recent},
                            timeout=10).status_code == 200
        assert email_status(svc, sub) == "active"  # GET never acts
        assert requests.post(f"{base}/unsubscribe", params={"token": recent},
                             timeout=10).status_code == 200
    assert email_status(svc, sub) == "unsubscribed"


def test_an_altered_date_is_not_a_fresh_link(svc: Services) -> None:
    sub = person(svc, confirmed=True)
    value, _, signature = token(svc, tokens.UNSUBSCRIBE, sub, 366).rpartition(".")
    head, _, _issued = value.rpartition(".")
    now, digits = int(time.time()), ""
    while now:
        now, rest = divmod(now, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    forged = f"{head}.{digits}.{signature}"
    with serve(svc) as base:
        response = requests.post(f"{base}/unsubscribe", params={"token": forged}, timeout=10)
    assert response.status_code == 400
    assert email_status(svc, sub) == "active"


def test_undated_links_mailed_before_this_change_keep_working(svc: Services) -> None:
    """The previous format: `<id>.<address tag>.<signature>`, no issue date."""
    sub = person(svc, confirmed=True)
    secret = svc.settings.secret_key
    undated = Signer(secret, salt="unsubscribe:v2").sign(
        f"{sub.id}.{tokens.address_tag(secret, ADDRESS)}").decode()
    with serve(svc) as base:
        assert requests.post(f"{base}/unsubscribe", params={"token": undated},
                             timeout=10).status_code == 200
    assert email_status(svc, sub) == "unsubscribed"
