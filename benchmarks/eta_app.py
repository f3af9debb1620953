"""The design DESIGN.md turns down, as a yardstick for row 4a: one ETA task per reminder.

Each reminder is one Celery task published with an ETA; the task calls twilio-python and
nothing else: no claim, no record, no rate limit, no idempotency, Celery's defaults (early
acknowledgement, prefetch 4). It is what "the cheapest Celery design" costs here, measured
beside ours in the same run:

    celery -A benchmarks.eta_app worker --concurrency=2     (ETA_TWILIO_URL, ETA_BROKER_URL)
"""

from __future__ import annotations

import os
from functools import cache

from celery import Celery
from twilio.rest import Client

from benchmarks.common import FROM_NUMBER, PUBLIC_URL
from reminders.channels.twilio_sms import RebasedHttpClient
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

QUEUE = "eta-design"

app = Celery("eta-design", broker=os.environ.get("ETA_BROKER_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(task_default_queue=QUEUE, task_ignore_result=True, result_backend=None,
                worker_hijack_root_logger=False)


@cache
def _client() -> Client:
    return Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, http_client=RebasedHttpClient(
        os.environ.get("ETA_TWILIO_URL", "http://127.0.0.1:9"), 10.0))


@app.task(name="eta.send_sms")
def send_sms(to: str, body: str) -> None:
    _client().messages.create(to=to, body=body, from_=FROM_NUMBER,
                              status_callback=PUBLIC_URL + "/sms/status")
