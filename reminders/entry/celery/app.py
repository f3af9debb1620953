"""The Celery adapter: the app, its configuration, the two tasks of the contract, and
`reminders.send_care_alert` (a caregiver's foot-problem alert, handed off by the webhook).

Configuration is added lazily (Celery reads it on first use), so importing this module reads no
environment and connects to nothing.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import beat_init, setup_logging, worker_init

from reminders.app.evenings.nightly import RetryLater
from reminders.app.imports import jobs
from reminders.entry.celery import broker
from reminders.entry.celery.handoff import ApplyAsyncPublisher, BatchPublisher, publisher_for
from reminders.logs import install
from reminders.settings import ConfigError, Settings, load_settings
from reminders.storage.client import (
    SENTINEL_SCHEME,
    Client,
    RedisError,
    RedisUnavailable,
    SentinelUrl,
    check_redis,
    connect,
    is_redis_url,
    sentinel_options,
)
from reminders.wiring import Services, build

log = logging.getLogger(__name__)

# Before any broker connection: an unreadable queue entry is set aside, not fatal (broker.py).
broker.install()
app = Celery("reminders")


@cache
def services() -> Services:
    """One set of services per process, shared by its sender threads (built on first use)."""
    return build(load_settings())


def _config() -> dict[str, Any]:
    settings = services().settings
    return {
        "broker_url": broker_url_for(settings),
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport_options_for(settings),
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # A send mostly waits (on the provider, 0.1-0.5 s a request, and on the TWILIO_MPS
        # pace), so `celery -A worker worker` runs SEND_CONCURRENCY threads in one process:
        # one prefork process per core sent 19 segments/s at 200 ms a request. The CLI uses
        # these when -P/-c are not given (celery/bin/worker.py, 5.7: a -P equal to the default
        # "prefork" counts as not given).
        "worker_pool": "threads",
        "worker_concurrency": settings.send_concurrency,
        "task_ignore_result": True,
        "result_backend": None,
        "timezone": "UTC",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
        # The console backend prints reminders: show them as plain output, not as warnings.
        "worker_redirect_stdouts_level": "INFO",
        "beat_schedule": {
            "dispatch-due": {
                "task": "reminders.dispatch_due",
                "schedule": _tick_schedule(settings.dispatch_interval_seconds),
                # A tick nobody ran in time is worthless: the next one claims the same people.
                "options": {"expires": max(1.0, settings.dispatch_interval_seconds)},
            },
            # Review items whose escalation stage is due (entry/celery/care_tasks.py).
            "care-sweep": {
                "task": "reminders.care_sweep",
                "schedule": settings.care.sweep_seconds,
                "options": {"expires": max(1.0, settings.care.sweep_seconds)},
            },
            # The yearly re-confirmation (entry/celery/care_tasks.py): asked only inside each
            # person's evening window, so hourly reaches every zone's evening; twice is safe.
            "reconfirm": {"task": "reminders.reconfirm", "schedule": crontab(minute="7"),
                          "options": {"expires": 3000.0}},
        },
    }


def broker_url_for(settings: Settings) -> str:
    url = settings.broker_url
    # kombu reads the database number from the first sentinel only: put it on each.
    return SentinelUrl.parse(url).kombu_url() if url.startswith(SENTINEL_SCHEME) else url


def producer_for(settings: Settings) -> Celery:
    """A Celery app that only publishes, on these settings' broker (the web process's: not
    the process-wide configuration above, which the worker reads from its environment)."""
    producer = Celery("reminders-web", broker=broker_url_for(settings))
    producer.conf.broker_transport_options = transport_options_for(settings)
    return producer


def transport_options_for(settings: Settings) -> dict[str, Any]:
    """A Redis broker: unacknowledged tasks come back after the visibility timeout, shorter
    than the late limit, so a task whose worker was killed is redelivered while its evening is
    still young. RabbitMQ redelivers them when the worker's connection drops; its
    consumer_timeout (30 min) is far above our longest countdown (the visibility timeout)."""
    if not is_redis_url(settings.broker_url):
        return {}
    options: dict[str, Any] = {
        "visibility_timeout": settings.visibility_timeout,
        # kombu looks for expired tasks every interval x throttle seconds (10 x 10 by
        # default): a killed worker's tasks came back 90-100 s after the visibility timeout
        # had passed. Sweep every quarter of the timeout instead (a ZRANGEBYSCORE on the
        # unacked index per worker), so they come back within 1.25 timeouts.
        "unacked_restore_interval": max(1, min(10, settings.visibility_timeout // 4)),
        "unacked_restore_throttle": 1,
    }
    if settings.broker_url.startswith(SENTINEL_SCHEME):
        options["master_name"] = settings.broker_sentinel_master
        # kombu asks the sentinels without a password unless told: REDIS_SENTINEL_PASSWORD,
        # else the URL's (compose runs both with one password), as for the data.
        options["sentinel_kwargs"] = sentinel_options(settings.broker_url,
                                                      settings.redis_sentinel_password)
    return options


def _tick_schedule(seconds: float) -> float | crontab:
    """Every minute on the minute: send times are whole minutes, so a tick at :00 finds people
    due the moment they are due. Other intervals (tests, demos) are plain periods."""
    return crontab(minute="*") if seconds == 60 else seconds


app.add_defaults(_config)


@worker_init.connect
@beat_init.connect
def _check_on_start(**_: Any) -> None:
    install()  # before Celery sets logging up: the credentials check may log its ERROR line
    # Celery logs and swallows what a signal handler raises: leave the process explicitly.
    try:
        services().check()
        _check_broker(services().settings)
        services().check_sms_credentials()  # a refused token stops sending at once, for all
        # Built now, before the pool's threads start: cached_property does not lock (3.12+).
        services().sender, services().dispatcher
    except (RedisUnavailable, ConfigError, RedisError) as exc:
        log.critical("not starting: %s", exc)
        raise SystemExit(1) from None


@setup_logging.connect
def _logging(**_: Any) -> None:
    # Connecting this signal tells Celery to leave logging to us: masked, one line per event.
    install()


def hand_off() -> BatchPublisher | ApplyAsyncPublisher:
    """How the dispatcher hands evenings out: each claimed batch is published in one broker
    command (see handoff.py), several evenings to a send_batch task, not one apply_async round
    trip per task."""
    return publisher_for(app, _broker_client(), send_reminder.name, send_batch.name,
                         services().settings.send_concurrency)


@cache
def _broker_client() -> Client | None:
    """A Redis client on the broker (the batch publisher needs it): the data client when the
    data Redis is the broker, else one of its own; None for RabbitMQ."""
    settings = services().settings
    if settings.broker_url == settings.redis_url:
        return services().redis
    if not is_redis_url(settings.broker_url):
        return None
    return connect(settings.broker_url, settings.broker_sentinel_master,
                   settings.redis_sentinel_password)


def _check_broker(settings: Settings) -> None:
    """A broker Redis apart from the data Redis must not evict queued tasks either."""
    client = _broker_client()
    if client is not None and settings.broker_url != settings.redis_url:
        check_redis(client, settings.broker_url, "CELERY_BROKER_URL")


@app.task(name="reminders.dispatch_due", ignore_result=True, acks_late=False)
def dispatch_due() -> dict[str, int]:
    svc = services()
    publisher = hand_off()
    report = svc.dispatcher.tick(datetime.now(UTC), publisher.enqueue, publisher.grouped)
    if report.claimed or report.resent:
        log.info("dispatch claimed=%d enqueued=%d missed=%d dropped=%d resent=%d",
                 report.claimed, report.enqueued, report.missed, report.dropped, report.resent)
    return {"claimed": report.claimed, "enqueued": report.enqueued, "missed": report.missed}


@app.task(name="reminders.send_reminder", bind=True, ignore_result=True, max_retries=None)
def send_reminder(self: Task, subscriber_id: str, local_date: str,
                  not_after: float | None = None) -> dict[str, str]:
    """`not_after` (epoch seconds; send-now's hand-off): the late limit counts from when the
    operator asked, not from the evening's time (bounded: see domain/policies.deadline)."""
    limit = datetime.fromtimestamp(not_after, UTC) if not_after is not None else None
    try:
        return _deliver(subscriber_id, local_date, limit)
    except RetryLater as exc:
        raise self.retry(countdown=_backoff(self.request.retries, exc.delay, exc.backoff),
                         exc=exc) from None
    except RedisError as exc:
        raise self.retry(countdown=_backoff(self.request.retries, None), exc=exc) from None


@app.task(name="reminders.send_batch", ignore_result=True)
def send_batch(evenings: list[list[str]]) -> dict[str, int]:
    """Several evenings from one dispatch (handoff.py), sent one after the other: Celery's own
    cost per task (about 1.5 ms of CPU, more than a send) is shared by them. Each is still its
    own keyed send (subscriber, local date, channel); one that must wait goes on as a
    send_reminder task with its delay, one that fails unexpectedly is handed out again by the
    dispatcher (unfinished evenings), and a worker killed mid-batch gets the whole batch back
    after the visibility timeout, whose sent evenings are then no-ops."""
    retried = 0
    for subscriber_id, local_date in evenings:
        try:
            _deliver(subscriber_id, local_date, None)
        except RetryLater as exc:
            retried += 1
            send_reminder.apply_async((subscriber_id, local_date),
                                      countdown=_backoff(0, exc.delay, exc.backoff))
        except RedisError:
            retried += 1
            send_reminder.apply_async((subscriber_id, local_date), countdown=_backoff(0, None))
        except Exception:
            log.exception("send error subscriber=%s date=%s (handed out again later)",
                          subscriber_id, local_date)
    return {"evenings": len(evenings), "retried": retried}


def _deliver(subscriber_id: str, local_date: str, limit: datetime | None) -> dict[str, str]:
    try:
        outcome = services().sender.deliver(subscriber_id, date.fromisoformat(local_date),
                                            datetime.now(UTC), not_after=limit)
    except RedisError as exc:
        # Redis restarting: the night record is intact (AOF); try again shortly.
        log.warning("send retry subscriber=%s reason=redis %s", subscriber_id, exc)
        raise
    return outcome.channels


@app.task(name="reminders.import_csv", ignore_result=True, acks_late=False)
def import_csv(job_id: str) -> str:
    """A console import (app/imports/jobs.py). Acknowledged as it starts, not after: a long
    job must not come back from the broker's visibility timeout while it still runs (it
    would import twice); a worker lost mid-job leaves it shown as stalled, to upload again."""
    svc = services()
    return jobs.run(svc.store, svc.settings, job_id)


@app.task(name="reminders.send_care_alert", bind=True, ignore_result=True, max_retries=20)
def send_care_alert(self: Task, subscriber_id: str, key: str, words: str) -> str:
    """A caregiver's alert about one foot-problem report (handed off by the webhook); sent at
    most once per `key`, only while both consents hold (app/people/caregivers.py)."""
    try:
        return services().send_care_alert(subscriber_id, key, words)
    except RetryLater as exc:
        raise self.retry(countdown=_backoff(self.request.retries, exc.delay), exc=exc) from None
    except RedisError as exc:
        log.warning("caregiver alert retry subscriber=%s reason=redis %s", subscriber_id, exc)
        raise self.retry(countdown=_backoff(self.request.retries, None), exc=exc) from None


def _backoff(retries: int, hint: float | None, floor: bool = False) -> float:
    """Exponential backoff with jitter, or the provider's Retry-After (with `floor`: whichever
    is longer, when one channel gave a Retry-After and the other needs the backoff).

    The late limit (checked on every attempt) bounds how long retrying goes on; the cap keeps
    a waiting task below the broker's visibility timeout, so it is not handed out twice.
    """
    cap = services().settings.visibility_timeout * 0.8
    backoff = min(cap, 300.0, 2.0 * 2 ** min(retries, 8)) * random.uniform(0.5, 1.5)
    if hint is not None and hint > 0:
        return min(max(hint, backoff) if floor else hint, cap)
    return backoff


# The care-team loop's tasks register on this app (they import it: hence at the end).
from reminders.entry.celery import care_tasks  # noqa: E402, F401
