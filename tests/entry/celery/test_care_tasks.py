"""The loop's Celery tasks on a real worker and a real beat: a crisis heard by the signed
webhook is handed to `reminders.escalate` and reaches the care team's inbox (the local SMTP
server) at once; beat's `reminders.care_sweep` escalates an item whose deadline passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from reminders.app.people.preferences import Enrolment, enrol
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_AUTH_TOKEN
from tests.conftest import CeleryProcess, make_services
from tests.webhook_client import PUBLIC_URL, WebhookClient, serve

PHONE = "+13125550142"
TEAM = "care-team@clinic.example"


def test_the_webhook_hands_a_crisis_to_a_worker_and_beat_sweeps_the_overdue(
        twilio_env: dict[str, str], fake_smtp: FakeSmtp,
        start_worker: Callable[..., CeleryProcess],
        start_beat: Callable[..., CeleryProcess]) -> None:
    env = {**twilio_env, "EMAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(fake_smtp.port), "SMTP_STARTTLS": "false",
           "EMAIL_FROM": "reminders@clinic.example", "CARE_TEAM_EMAIL": TEAM,
           "CARE_SWEEP_SECONDS": "1"}
    svc = make_services(env)
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, name="Ana Ruiz", confirmed=True,
                                             timezone="America/Chicago"))
    start_worker(env)
    with serve(svc) as base:  # the web app's own hand-offs: a task on the broker
        web = WebhookClient(base, PUBLIC_URL, DEFAULT_AUTH_TOKEN)
        assert web.text(PHONE, "I want to end my life").status_code == 200
        [crisis] = fake_smtp.wait_for(1, timeout=30)
    [item] = svc.reviews.inbox()
    assert crisis.rcpt_tos == [TEAM] and f"review item {item['id']}" in crisis.message["Subject"]
    # an item whose same-day deadline passed hours ago, nobody took it: beat's sweep finds it
    svc.inbound(datetime.now(UTC) - timedelta(hours=5)).handle(PHONE, "blister on my heel")
    start_beat(env)
    received = fake_smtp.wait_for(2, timeout=60)
    assert "past its deadline" in str(received[1].message["Subject"])
    assert [r.rcpt_tos for r in received] == [[TEAM], [TEAM]]
