"""Provider faults the fake Twilio API now reproduces the way the real one behaves.

1. An answer lost after Twilio accepted the message: the message sits queued (no date_sent, so
   no DateSent filter finds it) and may not even be listed yet; the evening must not go twice.
3. A rejected credential (401, 20003): a fault of the service, not of the people.
5. Retry-After: the next attempt, as seen at the fake, comes no earlier than the provider asked,
   whatever the other channel said.

The real twilio-python client talks HTTP to the fake; a real Redis; real Celery workers where
the retry timing is Celery's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from reminders.app.evenings.nightly import RetryLater
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.entry.cli.runner import demo_zone
from reminders.entry.web.app import create_app
from reminders.storage import keys, nights
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import FakeTwilio, RequestRecord
from tests.conftest import CeleryProcess, make_services, record_fault_line, wait_until

Starter = Callable[..., CeleryProcess]

PHONE = "+13125550142"
EVENING = date(2027, 1, 9)
RECHECK = 600  # SMS_RECHECK_SECONDS in these tests: the lost answer is looked for this long


def subscribe(svc: Services, phone: str = PHONE, **kw: object) -> Subscriber:
    request = Enrolment(**{"phone": phone, "timezone": "America/Chicago", "time": "20:00",
                           "confirmed": True, **kw})  # type: ignore[arg-type]
    return enrol(svc.store, svc.settings, request, datetime(2027, 1, 1, tzinfo=UTC))


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    return make_services({**twilio_env, "SMS_RECHECK_SECONDS": str(RECHECK)})


class Clock:
    """One simulated instant for the sender (`now`) and the fake (its `clock`): list lag and
    recheck windows are then exact, while HTTP timeouts stay real."""

    def __init__(self, fake: FakeTwilio) -> None:
        self.now = datetime.now(UTC)
        fake.clock = lambda: self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def attempt(svc: Services, sub: Subscriber, now: datetime) -> str:
    """One delivery attempt (as a task would make it); its SMS outcome, or the retry reason."""
    try:
        return svc.sender.deliver(sub.id, EVENING, now, ignore_late=True).channels["sms"]
    except RetryLater as exc:
        return f"retry: {exc.reason}"


def posts(fake: FakeTwilio) -> int:  # message creations the fake received
    return len(fake.message_attempts())


# --- 1. an answer lost after acceptance ----------------------------------------------------------


def test_a_lost_answer_for_a_queued_message_is_found_not_sent_again(
        svc: Services, fake_twilio: FakeTwilio) -> None:
    clock = Clock(fake_twilio)
    sub = subscribe(svc)
    fake_twilio.answer_late_next(1, seconds=3)  # accepted at once; the client gives up at 2 s
    assert attempt(svc, sub, clock.now).startswith("retry: timeout")
    [queued] = fake_twilio.messages
    assert (queued.status, queued.sent_at) == ("queued", None)  # no date_sent yet

    assert attempt(svc, sub, clock.advance(20)) == "sent"
    assert posts(fake_twilio) == 1 and len(fake_twilio.messages) == 1
    record = nights.read(svc.redis, sub.id, EVENING)
    assert (record["sms"], record["sms_id"], record["sms_status"]) == ("sent", queued.sid,
                                                                      "queued")
    assert attempt(svc, sub, clock.advance(20)) == "already sent"


def test_a_message_not_listed_yet_is_rechecked_not_resent(svc: Services,
                                                          fake_twilio: FakeTwilio) -> None:
    """Twilio's list can lag behind a create: "not found" means "not known yet"."""
    clock = Clock(fake_twilio)
    fake_twilio.set_list_lag(300)
    sub = subscribe(svc)
    fake_twilio.answer_late_next(1, seconds=3)
    assert attempt(svc, sub, clock.now).startswith("retry: timeout")
    [accepted] = fake_twilio.messages

    for _ in range(3):  # looked for again and again while it may still show up
        assert attempt(svc, sub, clock.advance(60)).startswith("retry: ")
        assert nights.read(svc.redis, sub.id, EVENING)["sms"] == "retry"
    fake_twilio.set_status(accepted.sid, "sent")  # handed to the carrier: date_sent is set
    assert posts(fake_twilio) == 1

    assert attempt(svc, sub, clock.advance(150)) == "sent"  # listed now, 330 s after creation
    assert posts(fake_twilio) == 1 and len(fake_twilio.messages) == 1
    record = nights.read(svc.redis, sub.id, EVENING)
    assert (record["sms"], record["sms_id"], record["sms_status"]) == ("sent", accepted.sid,
                                                                      "sent")


def test_a_lost_request_is_sent_again_once_the_recheck_window_has_passed(
        svc: Services, fake_twilio: FakeTwilio) -> None:
    clock = Clock(fake_twilio)
    sub = subscribe(svc)
    fake_twilio.hang_next(1, seconds=3, then_accept=False)  # never accepted
    assert attempt(svc, sub, clock.now).startswith("retry: timeout")

    assert attempt(svc, sub, clock.advance(RECHECK - 30)).startswith("retry: ")
    assert fake_twilio.messages == [] and posts(fake_twilio) == 1
    assert attempt(svc, sub, clock.advance(31)) == "sent"
    assert len(fake_twilio.messages) == 1 and posts(fake_twilio) == 2


def test_a_message_from_another_evening_or_another_text_is_not_taken_for_ours(
        svc: Services, fake_twilio: FakeTwilio) -> None:
    """The lookup matches tonight's own text, not a reply or yesterday's reminder."""
    clock = Clock(fake_twilio)
    sub = subscribe(svc)
    svc.sms.send_sms(PHONE, "Reply HELP for help. (an automated reply)")
    fake_twilio.hang_next(1, seconds=3, then_accept=False)
    assert attempt(svc, sub, clock.advance(1)).startswith("retry: timeout")
    assert attempt(svc, sub, clock.advance(RECHECK + 1)) == "sent"
    bodies = [m.body for m in fake_twilio.messages_to(PHONE)]
    assert len(bodies) == 2 and bodies[1] == svc.renderer.tonight(sub, EVENING).sms.body


# --- 5. Retry-After, in time --------------------------------------------------------------------


def due_now(svc: Services, phone: str = PHONE, channel: str = "sms",
            email: str | None = None) -> Subscriber:
    """A confirmed person whose evening time is this very minute (and is due in the index)."""
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    sub = enrol(svc.store, svc.settings, Enrolment(
        phone=phone, email=email, channel=channel, timezone=zone,
        time=local.strftime("%H:%M"), confirmed=True))
    tz = ZoneInfo(zone)
    instant = send_instant(now.astimezone(tz).date(), local, tz)
    svc.redis.zadd(keys.DUE, {sub.id: instant.timestamp()})  # due since the minute began
    return sub


def worker_env(twilio_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "BROKER_VISIBILITY_TIMEOUT": "20",
            **extra}


def report(line: str) -> None:
    print("\n" + line)
    record_fault_line(line)  # printed after the run by conftest's terminal summary


def gaps(attempts: list[RequestRecord]) -> list[float]:
    """Seconds between consecutive requests, by the fake's own arrival times."""
    return [(b.time - a.time).total_seconds() for a, b in pairwise(attempts)]


def test_retry_after_is_honoured_when_the_other_channel_asks_less(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
        start_worker: Starter, start_beat: Starter) -> None:
    env = worker_env(twilio_env, EMAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1",
                     SMTP_PORT=str(fake_smtp.port), SMTP_STARTTLS="false",
                     SMTP_TIMEOUT_SECONDS="2", EMAIL_FROM="reminders@example.org")
    svc = make_services(env)
    due_now(svc, channel="both", email="pat@example.org")
    fake_twilio.fail_next(1, http_status=429, retry_after=7)
    fake_smtp.refuse_next("451 4.3.0 Mailbox busy, try later")  # no delay of its own
    start_worker(env)
    start_beat(env)
    fake_twilio.wait_for_messages(1, timeout=90)
    fake_smtp.wait_for(1, timeout=90)

    attempts = fake_twilio.message_attempts()
    assert [r.status_code for r in attempts] == [429, 201]
    report(f"scenario=retry-after-7-with-smtp-451 sms_gap_at_fake={gaps(attempts)[0]:.2f}s "
           f"emails={len(fake_smtp.messages)} texts={len(fake_twilio.messages)}")
    assert gaps(attempts)[0] >= 7.0  # not before Twilio's Retry-After, as the fake saw it
    assert len(fake_smtp.messages) == 1 and fake_smtp.attempts == 2


def test_no_attempt_reaches_the_provider_before_its_retry_after(svc: Services,
                                                                fake_twilio: FakeTwilio) -> None:
    """Whatever runs the evening early (a retry capped below the broker's visibility timeout,
    the dispatcher handing a stale evening out again, a duplicate task) waits its turn."""
    clock = Clock(fake_twilio)
    sub = subscribe(svc)
    fake_twilio.fail_next(1, http_status=429, retry_after=30)
    assert attempt(svc, sub, clock.now).startswith("retry: 20429")
    early = attempt(svc, sub, clock.advance(16))
    assert early.startswith("retry: ") and posts(fake_twilio) == 1
    assert attempt(svc, sub, clock.advance(15)) == "sent"
    assert posts(fake_twilio) == 2 and len(fake_twilio.messages) == 1


# --- 3. a refused credential is the service's fault, not the people's ----------------------------


def health(env: dict[str, str]) -> tuple[int, object]:
    response = create_app(make_services(env)).test_client().get("/healthz")
    return response.status_code, response.get_json()


def metric(env: dict[str, str], name: str) -> float:
    """One series' value: the unlabelled one, or the SMS channel's where it is per channel."""
    text = create_app(make_services(env)).test_client().get("/metrics").get_data(as_text=True)
    [value] = [line.rsplit(" ", 1)[1] for line in text.splitlines()
               if line.startswith((name + " ", name + '{channel="sms"}'))
               or (line.startswith(name + "{") and "channel=" not in line)]
    return float(value)


def untouched(svc: Services, subs: list[Subscriber], evening: date) -> None:
    """Nobody was marked failed, invalid or opted out; nothing counted as a failure."""
    for sub in subs:
        fresh = svc.store.get(sub.id)
        assert fresh is not None and fresh.sms_status == "active"
        assert nights.read(svc.redis, sub.id, evening).get("sms") in (None, "retry")
    assert svc.redis.hget(keys.METRICS, "failed:sms") is None
    # The consent log holds the enrolments only, nothing from the provider.
    assert {fields[b"o"] for _, fields in svc.redis.xrange(keys.CONSENT_LOG)} == {b"cli"}


def test_a_refused_token_fails_nobody_and_stops_every_send(twilio_env: dict[str, str],
                                                           fake_twilio: FakeTwilio) -> None:
    env = {**twilio_env, "TWILIO_AUTH_TOKEN": "rotated-away"}
    svc = make_services(env)
    clock = Clock(fake_twilio)
    first, second = subscribe(svc), subscribe(svc, phone="+13125550143")

    assert attempt(svc, first, clock.now).startswith("retry: 20003")
    assert attempt(svc, second, clock.now).startswith("retry: circuit-open")
    assert [r.status_code for r in fake_twilio.requests_log] == [401]  # the second: not asked
    untouched(svc, [first, second], EVENING)
    assert health(env) == (503, {"redis": "ok", "sms": "auth failed: 20003"})
    assert metric(env, "reminders_provider_auth_failures_total") == 1
    assert metric(env, "reminders_provider_auth_failing") == 1


def test_a_refused_token_then_fixed_sends_every_evening_once(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
        start_beat: Starter) -> None:
    good = worker_env(twilio_env)
    bad = {**good, "TWILIO_AUTH_TOKEN": "rotated-away"}
    svc = make_services(good)
    subs = [due_now(svc, phone=f"+1312555{n:04d}") for n in range(10)]
    evening = datetime.now(ZoneInfo(subs[0].timezone)).date()
    worker = start_worker(bad)
    start_beat(bad)

    wait_until(lambda: all(f"delivery subscriber={sub.id} " in worker.log() for sub in subs),
               60, "an attempt for every person")
    untouched(svc, subs, evening)
    assert fake_twilio.messages == []
    refused = [r for r in fake_twilio.requests_log if r.status_code == 401]
    assert 1 <= len(refused) < len(subs)  # stopped after the first refusals, not one per person
    assert health(good) == (503, {"redis": "ok", "sms": "auth failed: 20003"})
    errors = [line for line in worker.log().splitlines() if " ERROR " in line]
    assert 1 <= len(errors) < len(subs) and all("sms stopped" in line for line in errors)

    worker.stop()  # the token is fixed: the workers restart with it
    restarted = time.monotonic()
    start_worker(good, name="w2")
    wait_until(lambda: len({m.to for m in fake_twilio.messages}) == len(subs), 120,
               "every evening after the fix")
    recovered = time.monotonic() - restarted
    time.sleep(3)  # anything sent twice would show by now
    report(f"scenario=auth-refused-then-fixed subscribers={len(subs)} "
           f"refused_requests={len(refused)} error_lines={len(errors)} failed=0 "
           f"all_sent_after_restart={recovered:.1f}s messages_sent={len(fake_twilio.messages)}")
    assert sorted(m.to for m in fake_twilio.messages) == sorted(s.phone for s in subs)
    assert all(nights.read(svc.redis, s.id, evening)["sms"] == "sent" for s in subs)
    assert health(good) == (200, {"redis": "ok"})
    assert metric(good, "reminders_provider_auth_failing") == 0
