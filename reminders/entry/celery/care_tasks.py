"""The care-team loop's tasks: `reminders.care_sweep` (beat, every CARE_SWEEP_SECONDS: the
escalations whose stage is due), `reminders.escalate` (one new emergency or crisis item, handed
off by the webhook so the care team hears at once), `reminders.send_checkin` (a silence
check-in, handed off by the status callback), `reminders.confirm_import` (the console's "ask
everyone this import left pending": one confirmation text each, paced), `reminders.reconfirm`
(beat, hourly: the yearly re-confirmation, app/compliance/reconfirm.py). Thin: each calls app/ and
maps its errors to a retry; exactly once is the claims' (storage/send_claims.py, the send path's),
not the broker's."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from celery import Task

from reminders.app.care.silence import CheckinRetry
from reminders.app.imports import jobs
from reminders.entry.celery.app import _backoff, app, services
from reminders.storage.client import RedisError

log = logging.getLogger(__name__)


@app.task(name="reminders.confirm_import", ignore_result=True, acks_late=False)
def confirm_import(job_id: str, operator: str) -> str:
    # Acknowledged as it starts: a broker's redelivery would only find everyone claimed.
    svc = services()
    return jobs.confirm_pending(svc.store, svc.confirmations, job_id, operator)


@app.task(name="reminders.care_sweep", ignore_result=True, acks_late=False)
def care_sweep() -> int:
    done = services().escalator.sweep(datetime.now(UTC))
    return len(done)


@app.task(name="reminders.escalate", bind=True, ignore_result=True, max_retries=10)
def escalate(self: Task, item_id: str) -> int:
    try:
        return len(services().escalator.run(item_id, datetime.now(UTC)))
    except RedisError as exc:
        raise self.retry(countdown=_backoff(self.request.retries, None), exc=exc) from None


@app.task(name="reminders.send_checkin", bind=True, ignore_result=True, max_retries=10)
def send_checkin(self: Task, subscriber_id: str, evening: str) -> str:
    try:
        return services().silence.send_checkin(subscriber_id, date.fromisoformat(evening),
                                               datetime.now(UTC))
    except (CheckinRetry, RedisError) as exc:
        hint = exc.delay if isinstance(exc, CheckinRetry) else None
        raise self.retry(countdown=_backoff(self.request.retries, hint), exc=exc) from None


@app.task(name="reminders.reconfirm", ignore_result=True, acks_late=False)
def reconfirm() -> dict[str, int]:
    # Two runs at once (a second beat, a CLI run) ask and pause each person once: the year's
    # claims in storage/reconfirm.py, and the send path's claim under them.
    done = services().reconfirmations.run(datetime.now(UTC))
    for problem in done.problems:
        log.warning("reconfirm: %s", problem)
    return {"asked": len(done.asked), "paused": len(done.paused)}
