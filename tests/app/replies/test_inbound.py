"""Inbound texts (app/replies/inbound.py): no STOP is lost to concurrent writers of the
record, and a STOP from a number being forgotten is still honoured; through the signed webhook
over HTTP, what counts is what is in Redis afterwards.
"""

from __future__ import annotations

import threading

from reminders.app.people import preferences
from reminders.wiring import Services
from tests.app.people.test_forget import PHONE, Twilio, person, web
from tests.webhook_client import WebhookClient

__all__ = ["web"]  # the fixture, used by name


class Rewriter(threading.Thread):
    """What `reminders set` and the console do, in a loop: read, change a few fields, save.

    A save that gives up is counted (and tried again, as an operator would); anything else
    ends the thread and is kept in `error`.
    """

    def __init__(self, svc: Services, n: int, done: threading.Event) -> None:
        super().__init__()
        self.svc, self.n, self.done = svc, n, done
        self.saves, self.gave_up, self.error = 0, 0, ""

    def run(self) -> None:
        try:
            while not self.done.is_set():
                self.rewrite_once()
        except Exception as exc:  # reported by the test
            self.error = f"writer {self.n}: {exc!r}"

    def rewrite_once(self) -> None:
        i = self.saves + self.gave_up
        current = self.svc.store.require(PHONE)
        changes = preferences.parse_assignments(current, [
            f"name=Writer {self.n} {i}", f"time=20:{i % 60:02d}",
            f"heat_ok={'yes' if i % 2 else 'no'}"])
        try:
            preferences.change(self.svc.store, current, changes)
        except Exception as exc:
            if "changed too often" not in str(exc):
                raise
            self.gave_up += 1
            return
        self.saves += 1


def test_no_stop_is_lost_while_other_writers_rewrite_the_record(
        twilio_services: Services, web: WebhookClient) -> None:
    svc = twilio_services
    sub = person(svc)
    done = threading.Event()
    writers = [Rewriter(svc, n, done) for n in range(3)]
    for thread in writers:
        thread.start()
    twilio, lost = Twilio(web), []
    try:
        for round_ in range(200):
            for word, expected in (("STOP", "opted_out"), ("START", "active")):
                response = twilio.text(PHONE, word)
                assert response.status_code == 200, response.text
                current = svc.store.get(sub.id)
                if current is None or current.sms_status != expected:
                    lost.append(f"{word} #{round_}")
    finally:
        done.set()
        for thread in writers:
            thread.join(30)
    assert not any(thread.is_alive() for thread in writers)
    assert lost == []
    assert [w.error for w in writers if w.error] == []
    assert sum(w.gave_up for w in writers) == 0 and all(w.saves > 0 for w in writers)
    actions = [event["action"] for event in svc.store.consent_history(sub.id)]
    assert actions.count("opted_out") == 200 and actions.count("opted_in") == 200
    print(f"writer saves={sum(w.saves for w in writers)} "
          f"webhook retries after a 5xx={twilio.retries}")


def test_a_stop_from_a_number_being_forgotten_is_still_honoured(
        twilio_services: Services, web: WebhookClient) -> None:
    svc = twilio_services
    sub = person(svc)
    svc.store.delete(sub, suppress=False)  # an operator's forget won the race
    assert Twilio(web).text(PHONE, "STOP").status_code == 200
    assert svc.store.is_suppressed_phone(PHONE)
