"""A worker that dies while asking a pending person leaves the ask claimed; after the claim's
lease the next ask takes it again, and the person still gets exactly one confirmation text on
the wire (the fake Twilio), whether the dead worker's text went out or not, or went out with
its answer lost (Twilio kept it; the worker timed out, then died)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.console import coordinator
from reminders.app.people.preferences import Enrolment, enrol
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio

ANA = "+13125550140"
LEASE = timedelta(seconds=coordinator.CLAIM_LEASE_SECONDS)


def texts_to(fake: FakeTwilio, phone: str) -> list[str]:
    return [m.body for m in fake.messages if m.to == phone]


@pytest.mark.parametrize("job_id", ["", "job1"], ids=["today", "import"])
@pytest.mark.parametrize("died", ["before-text", "after-text", "answer-lost"])
def test_a_dead_askers_claim_is_taken_again_after_its_lease_and_texts_once(
        twilio_services: Services, fake_twilio: FakeTwilio, died: str, job_id: str) -> None:
    svc = twilio_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=ANA, name="Ana", time="20:00"))
    # Mid-morning UTC: every instant below falls on the same day (the day scope's key).
    now = datetime.now(UTC).replace(hour=9, minute=0)
    # The dying worker: it claims the ask and, in one case, its text goes out; then it dies
    # (nothing finishes the claim).
    scope, key = coordinator.claim_key(sub.id, now, job_id)
    assert svc.store.send_claims.claim(scope, key, now.timestamp(),
                                       coordinator.CLAIM_LEASE_SECONDS)
    if died == "after-text":
        assert svc.confirmations.text(sub, request=f"{scope}:{key}")
    elif died == "answer-lost":  # Twilio keeps it, the answer comes after the 2 s timeout
        fake_twilio.answer_late_next(1, seconds=3.0)
        assert not svc.confirmations.text(sub, request=f"{scope}:{key}")
    assert len(texts_to(fake_twilio, ANA)) == int(died != "before-text")

    # Within the lease the claim is still the dead worker's: nobody asks.
    early = coordinator.ask(svc.store, svc.confirmations, [sub.id], "op@example.org",
                            now + LEASE - timedelta(seconds=5), job_id=job_id)
    assert (early.sent, len(early.already)) == ([], 1)
    assert svc.store.send_claims.state(scope, key) == "claimed"

    # Past the lease the ask is taken again: one text in all, and the claim is finished.
    late = now + LEASE + timedelta(seconds=5)
    again = coordinator.ask(svc.store, svc.confirmations, [sub.id], "op@example.org", late,
                            job_id=job_id)
    assert again.sent == [ANA] and again.problems == []
    [text] = texts_to(fake_twilio, ANA)
    assert "YES" in text.upper()
    assert svc.store.send_claims.state(scope, key) == "sent"

    # A finished claim is never taken again, however old.
    later = coordinator.ask(svc.store, svc.confirmations, [sub.id], "op@example.org",
                            late + 3 * LEASE, job_id=job_id)
    assert later.sent == [] and len(texts_to(fake_twilio, ANA)) == 1
