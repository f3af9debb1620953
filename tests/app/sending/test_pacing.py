"""The shared pace counts segments: a two-segment nightly text takes two segments' worth of
TWILIO_MPS, so the next text starts that much later. Asserted on when the creations reach the
fake Twilio API (its own clock), with TWILIO_MPS=1 so the gaps are whole seconds."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys, nights
from reminders.storage.rate_limit import paced_rate
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services

EVENING = date(2027, 1, 9)
PHONES = ["+13125550142", "+13125550143", "+13125550144"]


def test_two_segment_texts_are_paced_two_segments_apart(twilio_env: dict[str, str],
                                                        fake_twilio: FakeTwilio) -> None:
    svc: Services = make_services({**twilio_env, "TWILIO_MPS": "1", "SMS_MAX_SEGMENTS": "2"})
    people = [enrol(svc.store, svc.settings,
                    Enrolment(phone=phone, name="Bartholomew-Maximilian Featherstonehaugh",
                              timezone="America/Chicago", time="20:00", confirmed=True),
                    datetime(2027, 1, 1, tzinfo=UTC)) for phone in PHONES]
    segments = [svc.renderer.tonight(sub, EVENING).sms.segments for sub in people]
    assert segments == [2, 2, 2], segments  # what this test is about: long texts
    due = send_instant(EVENING, people[0].send_time, ZoneInfo("America/Chicago"))
    for sub in people:
        assert svc.sender.deliver(sub.id, EVENING, due).channels == {"sms": "sent"}
    arrivals = [r.time.timestamp() for r in fake_twilio.message_attempts()]
    assert len(arrivals) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Each text books 2 / paced_rate seconds (the pace stays a little under TWILIO_MPS); a
    # text counted as one segment would come after half that.
    slot = 2 / paced_rate(1, 2)
    assert all(gap >= slot - 0.15 for gap in gaps), (gaps, slot)
    # ... and the pace is not over-counted: the last text took exactly its two segments of the
    # schedule. Read on the booked schedule (the next free instant, Redis's clock; this machine's
    # clock for the fake too), not on the gaps: a loaded machine makes a caller late and a gap
    # longer, but never makes a text reach the fake before its slot.
    free_at = float(svc.redis.get(keys.SMS_RATE) or 0)
    assert free_at - arrivals[-1] <= slot + 0.05, (free_at - arrivals[-1], slot)


PHONE = "+13125550142"


def subscribe(svc: Services, phone: str = PHONE, **kw: object) -> Subscriber:
    request = Enrolment(**{"phone": phone, "timezone": "America/Chicago", "time": "20:00",
                           "confirmed": True, **kw})  # type: ignore[arg-type]
    return enrol(svc.store, svc.settings, request, datetime(2027, 1, 1, tzinfo=UTC))


def test_no_text_goes_out_after_the_late_limit_while_waiting_for_a_slot(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    assert svc.limiter is not None
    # Book the shared budget about three seconds ahead (another crowd is going out).
    assert svc.limiter.try_acquire(300) == 0
    due = send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))
    one_second_left = due + svc.sender.late_limit - timedelta(seconds=1)
    outcome = svc.sender.deliver(sub.id, EVENING, one_second_left)
    assert outcome.channels == {"sms": "missed"}
    assert fake_twilio.message_attempts() == []
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["sms"] == "missed" and record["sms_reason"] == "rate-limit"
