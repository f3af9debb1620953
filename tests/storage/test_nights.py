"""Night records (storage/nights.py) expire: every write sets the expiry, a late status
callback included; through the signed webhook over HTTP, as in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import redis

from reminders.storage import keys
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_ACCOUNT_SID, FakeTwilio
from tests.app.people.test_forget import ZONE, Twilio, history, person, web
from tests.webhook_client import WebhookClient

__all__ = ["web"]  # the fixture, used by name


def test_every_night_record_expires(twilio_services: Services, web: WebhookClient,
                                    fake_twilio: FakeTwilio, redis_client: redis.Redis) -> None:
    svc = twilio_services
    person(svc, "+13125550143")
    twilio = Twilio(web)
    assert twilio.text("+13125550143", "DONE").status_code == 200  # nothing sent that night
    history_keys = list(redis_client.scan_iter(match=keys.PREFIX + "night:*"))
    assert len(history_keys) == 1
    sub = history(svc, web, fake_twilio)  # a second person with sends, statuses, scores
    nights = list(redis_client.scan_iter(match=keys.PREFIX + "night:*"))
    assert len(nights) >= 5 and any(sub.id.encode() in name for name in nights)
    ttls = {name.decode(): redis_client.ttl(name) for name in nights}
    assert all(0 < ttl <= keys.NIGHT_TTL_SECONDS for ttl in ttls.values()), ttls
    for name in redis_client.scan_iter(match=keys.PREFIX + "msg:*"):
        assert redis_client.ttl(name) > 0


def test_no_night_is_recreated_by_a_late_status_callback(
        twilio_services: Services, web: WebhookClient, fake_twilio: FakeTwilio,
        redis_client: redis.Redis) -> None:
    svc = twilio_services
    sub = person(svc)
    day = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date() - timedelta(days=2)
    svc.sender.deliver(sub.id, day, datetime.now(UTC), ignore_late=True)
    [message] = fake_twilio.messages
    redis_client.delete(keys.night(sub.id, day))  # expired, while its SID record lingers
    web.post("/sms/status", {"MessageSid": message.sid, "MessageStatus": "delivered",
                             "AccountSid": DEFAULT_ACCOUNT_SID})
    assert redis_client.ttl(keys.night(sub.id, day)) != -1
