"""The web app hands the care-team loop's slow work to a worker, as it does caregiver alerts:
an at-once escalation (task reminders.escalate) and a silence check-in (reminders.send_checkin),
so neither the inbound webhook nor the status callback waits on SMTP, a webhook or Twilio. If
the broker refuses the task, the work is done right here rather than lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from reminders.wiring import Services

log = logging.getLogger(__name__)


def install(svc: Services) -> None:
    from celery import Celery
    from kombu.exceptions import OperationalError

    from reminders.entry.celery.app import broker_url_for, transport_options_for

    producer = Celery("reminders-web-care", broker=broker_url_for(svc.settings))
    producer.conf.broker_transport_options = transport_options_for(svc.settings)

    def handoff(task: str, here: Callable[..., object]) -> Callable[..., None]:
        def hand(*args: str) -> None:
            try:
                producer.send_task(task, args=args)
            except OperationalError as exc:
                log.error("%s not handed to a worker (%s): done here", task, exc)
                here(*args)
        return hand

    if svc.review_handoff is None:
        svc.review_handoff = handoff("reminders.escalate",
                                     lambda item: svc.escalator.run(item, datetime.now(UTC)))
    if svc.checkin_handoff is None:
        svc.checkin_handoff = handoff(
            "reminders.send_checkin", lambda sid, evening: svc.silence.send_checkin(
                sid, date.fromisoformat(evening), datetime.now(UTC)))
