"""The subscriber store under concurrent changes: no change is lost, nothing half-written."""

from __future__ import annotations

import threading
from datetime import time

import pytest

from reminders.preferences import Enrolment, enrol
from reminders.services import Services
from reminders.store import AlreadySubscribed, NotFound
from reminders.subscribers import Subscriber


def _sub(svc: Services, phone: str = "+13125550142", **kw: str) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=phone, confirmed=True, **kw))


def test_changes_made_from_a_stale_copy_keep_the_other_writer(console_services: Services
                                                              ) -> None:
    svc = console_services
    stale = _sub(svc)
    svc.store.save(stale, stale.with_changes(sms_status="opted_out"))  # e.g. a STOP
    saved = svc.store.save(stale, stale.with_changes(send_time=time(21, 0)))  # e.g. `set`
    stored = svc.store.get(stale.id)
    assert stored == saved
    assert stored is not None and stored.sms_status == "opted_out"
    assert stored.send_time == time(21, 0)
    assert svc.store.next_due(stale.id) is None  # opted out stays out of the due index


def test_many_concurrent_writers_each_keep_their_field(console_services: Services) -> None:
    svc = console_services
    sub = _sub(svc)
    changes = [{"heat_ok": True}, {"massage_ok": False}, {"name": "Ana"}, {"streak": 3},
               {"send_time": time(22, 30)}, {"timezone": "America/Denver"}]

    def write(change: dict[str, object]) -> None:
        svc.store.save(sub, sub.with_changes(**change))

    threads = [threading.Thread(target=write, args=(c,)) for c in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = svc.store.get(sub.id)
    assert stored is not None
    assert (stored.heat_ok, stored.massage_ok, stored.name, stored.streak) == (True, False,
                                                                                "Ana", 3)
    assert stored.send_time == time(22, 30) and stored.timezone == "America/Denver"


def test_taking_someone_elses_email_writes_nothing(console_services: Services) -> None:
    svc = console_services
    first = _sub(svc, email="a@example.org", channel="both")
    second = _sub(svc, phone="+13125550143")
    with pytest.raises(AlreadySubscribed):
        svc.store.save(second, second.with_changes(email="a@example.org", channel="both"))
    assert svc.store.get(second.id) == second
    assert svc.store.find("a@example.org") == first


def test_saving_a_forgotten_subscriber_is_refused(console_services: Services) -> None:
    svc = console_services
    sub = _sub(svc)
    svc.store.delete(sub, suppress=False)
    with pytest.raises(NotFound):
        svc.store.save(sub, sub.with_changes(name="ghost"))
    assert svc.store.get(sub.id) is None
