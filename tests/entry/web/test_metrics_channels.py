"""/metrics over HTTP covers every registered channel (domain/channels.py): the deliveries by
channel and outcome, and each paced channel's pace (window cuts, late slots) and circuit, so an
evening call (voice) shows up as a text and an email do."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from reminders.app.sending.retry import RetryLater
from reminders.domain import channels
from reminders.entry.web.metrics import OUTCOMES
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.app.voice.test_voice import CALLER, DAY, evening, person
from tests.webhook_client import serve

__all__ = ["evening"]  # the fixture, used by name


def scrape(svc: Services) -> list[str]:
    with serve(svc) as base:
        answer = requests.get(base + "/metrics", timeout=10)
    assert answer.status_code == 200
    return answer.text.splitlines()


def test_a_voice_call_and_its_429_are_counted_on_the_voice_channel(
        twilio_services: Services, fake_twilio: FakeTwilio, evening: datetime) -> None:
    svc = twilio_services
    sub = person(svc, CALLER, "voice")
    fake_twilio.fail_next(1, http_status=429)  # too many concurrent requests: the window is cut
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, DAY, evening)
    assert svc.sender.deliver(sub.id, DAY, evening).channels == {"voice": "sent"}
    assert len(fake_twilio.calls.to(CALLER)) == 1 and fake_twilio.messages == []
    lines = scrape(svc)
    assert 'reminders_deliveries_total{channel="voice",outcome="sent"} 1.0' in lines
    assert 'reminders_deliveries_total{channel="sms",outcome="sent"} 0.0' in lines
    assert 'reminders_send_window_cuts_total{channel="voice"} 1.0' in lines
    assert 'reminders_send_window_cuts_total{channel="sms"} 0.0' in lines


def test_every_channel_labelled_family_lists_every_registered_channel(
        twilio_services: Services) -> None:
    lines = scrape(twilio_services)
    paced = [name for name in channels.names() if channels.get(name).paced]
    assert "voice" in channels.names() and paced == ["sms", "voice"]
    for name in channels.names():
        for outcome in OUTCOMES:
            assert f'reminders_deliveries_total{{channel="{name}",outcome="{outcome}"}} 0.0' \
                in lines
    for name in paced:
        for family in ("reminders_send_window_cuts_total", "reminders_late_slots_total",
                       "reminders_provider_auth_failing"):
            assert f'{family}{{channel="{name}"}} 0.0' in lines, (family, name)
