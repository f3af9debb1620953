"""Prometheus metrics for /metrics, read from Redis at scrape time: a few small keys, never a
walk over the population (the due index's size and the capacity verdict are counted by the
dispatcher on its own schedule, app/evenings/capacity.py, and only read here). With METRICS_TOKEN
set the route asks for `Authorization: Bearer <token>` (entry/web/app.py).

Workers, beat and web are separate processes (and machines): counting in Redis, where the
events happen atomically anyway, gives one consistent view without a push gateway or
prometheus-client's multiprocess directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from reminders.app.care import loop_stats
from reminders.domain import channels
from reminders.domain.triage import FLAG_CATEGORIES
from reminders.storage import capacity_check, circuit, counters, tally
from reminders.storage.subscribers import Store

OUTCOMES = ("sent", "failed", "missed", "skipped", "delivered", "undelivered")


class RedisCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store, self.redis = store, store.redis

    def collect(self) -> Iterator[Metric]:
        counts = counters.read_all(self.redis)
        yield self._outcomes(counts)
        yield self._errors(counts)
        yield self._inbound(counts)
        yield self._flags(counts)
        yield from self._refused(counts)
        yield from self._dispatch(counts)
        yield from self._provider(counts)
        yield from self._capacity()
        yield self._review()
        yield self._subscribers()

    def _review(self) -> Metric:
        """The care team's backlog: open review items by level and age (app/care/loop_stats.py)."""
        family = GaugeMetricFamily("reminders_review_open",
                                   "Open review items (not closed with an outcome), by level "
                                   "and age since opened", labels=["level", "age"])
        for level, ages in loop_stats.open_by_level_and_age(self.store,
                                                            datetime.now(UTC)).items():
            for age, count in ages.items():
                family.add_metric([level, age], float(count))
        return family

    def _subscribers(self) -> Metric:
        """People by each kept count (storage/tally.py): one HGETALL of a small hash."""
        kept = tally.read(self.redis)
        people = GaugeMetricFamily("reminders_subscribers",
                                   "Subscribers by dimension (sms, email, channel, language, "
                                   "cause, zone, flag) and value; total under dimension total",
                                   labels=["dimension", "value"])
        people.add_metric(["total", ""], float(kept.total))
        for dimension, values in sorted(kept.counts.items()):
            if dimension in tally.NOT_EXPORTED:
                continue
            for value, count in sorted(values.items()):
                people.add_metric([dimension, value], float(count))
        return people

    def _capacity(self) -> Iterator[Metric]:
        """The dispatcher's last capacity check (app/evenings/capacity.py), read, never computed
        here: a scrape stays cheap whatever the population."""
        last = capacity_check.last(self.redis)
        due = GaugeMetricFamily("reminders_due_index_size",
                                "Subscribers in the due index, at the dispatcher's last count "
                                "(every 10 minutes; -1 before its first)")
        due.add_metric([], float(last.due_index_size if last is not None else -1))
        yield due
        risk = GaugeMetricFamily("reminders_capacity_at_risk",
                                 "1 when the people due in the next 24 h cannot all be texted "
                                 "within LATE_LIMIT_MINUTES at TWILIO_MPS (see `reminders "
                                 "capacity`); 0 otherwise or not checked yet")
        risk.add_metric([], 1.0 if last is not None and last.at_risk else 0.0)
        yield risk
        delay = GaugeMetricFamily("reminders_capacity_worst_delay_seconds",
                                  "How long after its time the latest text of the next 24 h "
                                  "would go out, at the last capacity check")
        delay.add_metric([], last.worst_delay_seconds if last is not None else 0.0)
        yield delay

    @staticmethod
    def _outcomes(counts: dict[str, str]) -> Metric:
        family = CounterMetricFamily("reminders_deliveries", "Nightly reminder outcomes",
                                     labels=["channel", "outcome"])
        for channel in channels.names():
            for outcome in OUTCOMES:
                value = counts.get(counters.outcome(outcome, channel), 0)
                family.add_metric([channel, outcome], float(value))
        return family

    @staticmethod
    def _errors(counts: dict[str, str]) -> Metric:
        family = CounterMetricFamily("reminders_delivery_errors",
                                     "Permanent failures by provider error code",
                                     labels=["channel", "code"])
        for name, value in sorted(counts.items()):
            if name.startswith("error:"):
                _, channel, code = name.split(":", 2)
                family.add_metric([channel, code], float(value))
        return family

    @staticmethod
    def _inbound(counts: dict[str, str]) -> Metric:
        family = CounterMetricFamily("reminders_inbound", "Inbound texts by command",
                                     labels=["command"])
        for name, value in sorted(counts.items()):
            if name.startswith("inbound:"):
                family.add_metric([name.split(":", 1)[1]], float(value))
        return family

    @staticmethod
    def _flags(counts: dict[str, str]) -> Metric:
        family = CounterMetricFamily("reminders_flags", "Foot problems reported by text",
                                     labels=["category"])
        for category in FLAG_CATEGORIES:
            family.add_metric([category], float(counts.get(counters.flag(category), 0)))
        return family

    @staticmethod
    def _refused(counts: dict[str, str]) -> Iterator[Metric]:
        """What the send path would not act on, and emails repeated after a crash (guards.py,
        broker.py, message_ids.py)."""
        unreadable = CounterMetricFamily("reminders_unreadable_records",
                                         "Subscriber records skipped because they do not decode",
                                         labels=["where"])
        for where in ("dispatch", "send"):
            unreadable.add_metric([where], float(counts.get(counters.unreadable(where), 0)))
        yield unreadable
        rejected = CounterMetricFamily("reminders_rejected_messages",
                                       "Broker entries and send tasks refused",
                                       labels=["reason"])
        for reason in ("broker", "date"):
            rejected.add_metric([reason], float(counts.get(counters.rejected(reason), 0)))
        yield rejected
        repeated = CounterMetricFamily("reminders_email_repeats",
                                       "Nightly emails sent again after an attempt reached DATA")
        repeated.add_metric([], float(counts.get(counters.EMAIL_REPEATS, 0)))
        yield repeated

    def _provider(self, counts: dict[str, str]) -> Iterator[Metric]:
        """Twilio refusing our account or credentials (circuit.py): no text or call goes out;
        and each paced channel's pace (sms, voice: every channel whose spec is `paced`)."""
        paced = [name for name in channels.names() if channels.get(name).paced]
        yield _sms_counter("reminders_provider_auth_failures",
                           "Requests the SMS provider refused for our account or credentials "
                           "(401, 20003, 20005)", counts, counters.PROVIDER_AUTH_FAILURES)
        failing = GaugeMetricFamily("reminders_provider_auth_failing",
                                    "1 from the provider's refusal of our credentials until it "
                                    "accepts them again (sending stopped or being retried), on "
                                    "each channel the circuit stops", labels=["channel"])
        stopped = 1.0 if circuit.failing(self.redis) is not None else 0.0
        for name in paced:  # the circuit gates every paced channel (app/sending/pacing.py)
            failing.add_metric([name], stopped)
        yield failing
        yield _by_channel("reminders_send_window_cuts",
                          "Times a worker halved its in-flight sends after the provider "
                          "answered 429 (too many concurrent requests)",
                          counts, paced, counters.send_window_cuts)
        yield _by_channel("reminders_late_slots",
                          "Texts and calls held back because they would have reached the "
                          "provider after their rate-limit slot (booked again; a starved "
                          "worker)", counts, paced, counters.late_slots)

    @staticmethod
    def _dispatch(counts: dict[str, str]) -> Iterator[Metric]:
        lag = SummaryMetricFamily("reminders_dispatch_lag_seconds",
                                  "Delay between a reminder's instant and its hand-off")
        lag.add_metric([], count_value=int(counts.get(counters.LAG_COUNT, 0)),
                       sum_value=float(counts.get(counters.LAG_SUM, 0)))
        yield lag
        last = GaugeMetricFamily("reminders_dispatch_lag_last_seconds",
                                 "Largest hand-off delay in the last tick that had any")
        last.add_metric([], float(counts.get(counters.LAG_LAST, 0)))
        yield last


def _sms_counter(name: str, documentation: str, counts: dict[str, str], field: str
                 ) -> CounterMetricFamily:
    """A counter kept in the metrics hash under `field`, labelled channel="sms"."""
    family = CounterMetricFamily(name, documentation, labels=["channel"])
    family.add_metric(["sms"], float(counts.get(field, 0)))
    return family


def _by_channel(name: str, documentation: str, counts: dict[str, str], names: list[str],
                field: Callable[[str], str]) -> CounterMetricFamily:
    """A counter kept in the metrics hash under `field(channel)`, one series per channel."""
    family = CounterMetricFamily(name, documentation, labels=["channel"])
    for channel in names:
        family.add_metric([channel], float(counts.get(field(channel), 0)))
    return family
