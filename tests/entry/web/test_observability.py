"""Logs (one structured line per attempt, personal data masked) and /metrics."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from celery import Celery

from reminders.app.evenings import capacity
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.cli.runner import demo_zone
from reminders.logs import mask
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import CeleryProcess, make_services, wait_until
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"


def test_masking_hides_numbers_and_addresses_but_not_dates() -> None:
    line = "to +13125550142 or (312) 555-0142 mail ana.lima@example.org on 2026-11-25 12:00:01"
    masked = mask(line)
    assert "3125550142" not in masked and "555-0142" not in masked
    assert "ana.lima" not in masked and "a[...]@example.org" in masked
    assert "+*********42" in masked and "2026-11-25 12:00:01" in masked


def test_worker_logs_one_line_per_attempt_without_personal_data(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio,
    start_worker: Callable[..., CeleryProcess],
) -> None:
    svc = make_services(twilio_env)
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    sub = enrol(svc.store, svc.settings, Enrolment(
        phone=PHONE, email="ana.lima@example.org", channel="both", timezone=zone,
        time=local.strftime("%H:%M"), confirmed=True))
    evening = now.astimezone(ZoneInfo(zone)).date().isoformat()
    fake_twilio.fail_next(1, http_status=500)
    worker = start_worker(twilio_env)
    Celery(broker=twilio_env["REDIS_URL"]).send_task("reminders.send_reminder",
                                                     args=[sub.id, evening])
    [message] = fake_twilio.wait_for_messages(1, timeout=60)
    wait_until(lambda: re.search(r"channel=sms \S+ outcome=sent", worker.log()), 30,
               "the SMS delivery line")
    log = worker.log()
    lines = [line for line in log.splitlines() if " delivery subscriber=" in line]
    assert any(re.search(rf"subscriber={sub.id} channel=sms date={evening} outcome=retry "
                         r"duration_ms=\d+ error=500", line) for line in lines), lines
    assert any(re.search(rf"subscriber={sub.id} channel=sms .*outcome=sent .*error=-", line)
               for line in lines), lines
    assert any("channel=email" in line and "outcome=sent" in line for line in lines), lines
    assert "3125550142" not in log and "ana.lima@" not in log
    assert message.body.splitlines()[1] not in log  # bodies only at DEBUG


def test_metrics_count_sends_errors_and_inbound(twilio_services: Services,
                                                fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, confirmed=True))
    other = enrol(svc.store, svc.settings, Enrolment(phone="+13125550143", confirmed=True))
    fake_twilio.reject_number("+13125550143", 21610)
    day = datetime.now(UTC).astimezone(ZoneInfo(sub.timezone)).date()
    svc.sender.deliver(sub.id, day, datetime.now(UTC), ignore_late=True)
    svc.sender.deliver(other.id, day, datetime.now(UTC), ignore_late=True)
    with serve(svc) as base:
        web = WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN)
        web.text(PHONE, "HELP")
        web.text(PHONE, "7/10")
        import requests

        capacity.check(svc.store, capacity.Limits.of(svc.settings), datetime.now(UTC))
        body = requests.get(base + "/metrics", timeout=10).text
    assert 'reminders_deliveries_total{channel="sms",outcome="sent"} 1.0' in body
    assert 'reminders_deliveries_total{channel="sms",outcome="failed"} 1.0' in body
    assert 'reminders_delivery_errors_total{channel="sms",code="21610"} 1.0' in body
    assert 'reminders_inbound_total{command="help"} 1.0' in body
    assert 'reminders_inbound_total{command="score"} 1.0' in body
    assert "reminders_due_index_size 1.0" in body  # the opted-out one left the index
    # People by kept count: the 21610 opted the other one out.
    assert 'reminders_subscribers{dimension="total",value=""} 2.0' in body
    assert 'reminders_subscribers{dimension="sms",value="active"} 1.0' in body
    assert 'reminders_subscribers{dimension="sms",value="opted_out"} 1.0' in body


def _scrape_commands(svc: Services, base: str, headers: dict[str, str] | None = None
                     ) -> tuple[int, int]:
    """(HTTP status of one scrape, Redis commands it ran)."""
    import requests

    def calls() -> int:
        stats = svc.redis.info("commandstats")
        return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")

    before = calls()
    status = requests.get(base + "/metrics", headers=headers or {}, timeout=10).status_code
    return status, calls() - before


def test_a_scrape_costs_the_same_whatever_the_population(twilio_services: Services) -> None:
    svc = twilio_services
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, confirmed=True))
    with serve(svc) as base:
        _, few = _scrape_commands(svc, base)
        for n in range(300):  # spread over many shards of the due index
            enrol(svc.store, svc.settings, Enrolment(phone=f"+1312555{3000 + n:04d}",
                                                     confirmed=True))
        status, many = _scrape_commands(svc, base)
        assert status == 200 and many == few <= 8, (few, many)
        capacity.check(svc.store, capacity.Limits.of(svc.settings), datetime.now(UTC))
        import requests

        body = requests.get(base + "/metrics", timeout=10).text
    assert "reminders_due_index_size 301.0" in body


def test_metrics_need_the_bearer_token_when_one_is_set(twilio_env: dict[str, str]) -> None:
    import requests

    token = "m3trics-" + "x" * 24
    svc = make_services({**twilio_env, "METRICS_TOKEN": token})
    with serve(svc) as base:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token},
                        {"Authorization": f"Basic {token}"}):
            answer = requests.get(base + "/metrics", headers=headers, timeout=10)
            assert answer.status_code == 401, headers
            assert "reminders_" not in answer.text
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        answer = requests.get(base + "/metrics", timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and "reminders_deliveries_total" in answer.text
    with serve(make_services(twilio_env)) as base:  # no token set: open, as before
        assert requests.get(base + "/metrics", timeout=10).status_code == 200
