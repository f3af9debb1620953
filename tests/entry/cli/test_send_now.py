"""`reminders send-now` (entry/cli/send_now.py): a busy provider hands the evening to a worker,
which sends it once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, Cli, make_services

Starter = Callable[..., CeleryProcess]
PHONE = "+13125550142"


def subscribe(svc: Services, phone: str = PHONE, **kw: object) -> Subscriber:
    request = Enrolment(**{"phone": phone, "timezone": "America/Chicago", "time": "20:00",
                           "confirmed": True, **kw})  # type: ignore[arg-type]
    return enrol(svc.store, svc.settings, request, datetime(2027, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("status", [429, 500])
def test_send_now_hands_the_evening_to_a_worker_when_the_provider_is_busy(
    status: int, twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
) -> None:
    svc = make_services(twilio_env)
    subscribe(svc)
    start_worker(twilio_env)
    fake_twilio.fail_next(1, http_status=status, retry_after=1)
    result = Cli(twilio_env)("send-now", PHONE)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "handed to a worker" in lines[0], lines
    [message] = fake_twilio.wait_for_messages(1, timeout=60)
    assert message.to == PHONE
    again = Cli(twilio_env)("send-now", PHONE)
    assert again.returncode == 0 and "sms: already sent" in again.stdout
    assert len(fake_twilio.messages) == 1
    assert len(fake_twilio.message_attempts()) == 2  # the refused one, the one that went out
