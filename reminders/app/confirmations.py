"""The double opt-in text: enrolled people get nothing else until they reply YES."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reminders.channels.base import DeliveryError
from reminders.domain.gsm import count_segments, to_gsm7
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import format_clock
from reminders.wiring import Services

log = logging.getLogger(__name__)


def render_sms(svc: Services, name: str, **context: object) -> str:
    env = Environment(loader=FileSystemLoader(str(svc.settings.templates_dir)),
                      undefined=StrictUndefined, autoescape=False)
    text = env.get_template(f"sms/{name}.txt.j2").render(
        program_name=svc.settings.program_name, **context)
    return to_gsm7(" ".join(text.split()))


# A confirmation waits at most this long for its turn under TWILIO_MPS.
PACING_WAIT_SECONDS = 600.0


def send_confirmation(svc: Services, sub: Subscriber) -> bool:
    if not (sub.phone and sub.sms_status == "pending"):
        return False
    body = render_sms(svc, "confirm", time=format_clock(sub.send_time))
    limiter = svc.sender.limiter
    # Many at once (an import) share the account's throughput with the nightly texts.
    if limiter is not None and not limiter.acquire(count_segments(body).segments,
                                                   give_up_after=PACING_WAIT_SECONDS):
        print("warning: the confirmation text could not be sent (rate limit: no slot in time)")
        return False
    try:
        svc.sms.send_sms(sub.phone, body)
    except DeliveryError as exc:
        log.warning("confirmation not sent subscriber=%s code=%s", sub.id, exc.code)
        print(f"warning: the confirmation text could not be sent ({exc.message})")
        return False
    return True


def send_email_confirmation(svc: Services, sub: Subscriber) -> bool:
    if not (sub.email and sub.email_status == "pending"):
        return False
    if svc.store.is_suppressed_email(sub.email):
        # Whatever path led here (CLI, import, a text): an address that unsubscribed is never
        # asked again; only its owner's own request (a confirmation link) lifts that.
        log.info("email confirmation not sent subscriber=%s reason=suppressed", sub.id)
        return False
    message = svc.composer.confirmation(sub, datetime.now(UTC))
    try:
        svc.email.send_email(message)
    except DeliveryError as exc:
        log.warning("email confirmation not sent subscriber=%s code=%s", sub.id, exc.code)
        print(f"warning: the confirmation email could not be sent ({exc.message})")
        return False
    return True
