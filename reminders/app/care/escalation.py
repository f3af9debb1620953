"""Escalation: tell the care team about a review item nobody has taken in time.

Each open item carries the instant its next stage falls due (storage/review.py): stage 1 (the
care team: CARE_TEAM_EMAIL and the signed webhook) at once for emergency and crisis, else when
the acknowledgement deadline passes; stage 2 (CARE_TEAM_ESCALATION_EMAIL, and the webhook again
with stage 2) at the next deadline (domain/deadlines.py). Taking or closing an item stops it.
The email is the `care_team_email` kind (domain/kinds.py), keyed (item, stage), sent through the
one send path (sending/send_path.py: the claim in storage/sends.py, the look-up after a lost answer
by its deterministic Message-ID and Date); the signed webhook is not a person's message and keeps
its claim per (item, stage) in storage/send_claims.py. Two sweeps, two workers or a retried task
never send either twice. A transient failure leaves the item to be looked at again RETRY_SECONDS
later; a permanent one is logged and kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reminders.app.care.review import Reviews
from reminders.app.care.silence import iso_week
from reminders.app.sending import message_ids
from reminders.app.sending.retry import RetryLater
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.channels.base import DeliveryError
from reminders.channels.webhook import SignedWebhook
from reminders.domain.kinds import CARE_TEAM_EMAIL
from reminders.messages.care_team import CareTeamMessages, Escalation
from reminders.settings_care import CareSettings
from reminders.storage import counters
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

SCOPE = "escalation"
RETRY_SECONDS = 60


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


@dataclass
class Escalator:
    store: Store
    reviews: Reviews
    care: CareSettings
    messages: CareTeamMessages
    path: SendPath
    secret_key: str  # keys the emails' deterministic Message-IDs (naming nobody)
    webhook: SignedWebhook | None

    def sweep(self, now: datetime) -> list[str]:
        """Every item whose next stage is due: what was done ("<item>:<stage>:<channel>:<how>")."""
        done: list[str] = []
        for item_id in self.store.review.due_escalations(now.timestamp()):
            done += self.run(item_id, now)
        return done

    def run(self, item_id: str, now: datetime) -> list[str]:
        """The item's due stage, if it is due and nobody took the item."""
        items = self.store.review
        item = items.get(item_id)
        if item is None or item.get("state") != "open" or item.get("owner"):
            items.schedule_escalation(item_id, None, int((item or {}).get("stage", 0)))
            return []
        stage = int(item.get("stage", "0")) + 1
        if stage > 2:
            items.schedule_escalation(item_id, None, 2)
            return []
        if _instant(item[f"stage{stage}_at"]) > now:
            items.schedule_escalation(item_id, _instant(item[f"stage{stage}_at"]).timestamp(),
                                      stage - 1)
            return []
        outcomes = self._send_stage(item, stage, now)
        if any(o.endswith(":retry") for o in outcomes):
            items.schedule_escalation(item_id,
                                      (now + timedelta(seconds=RETRY_SECONDS)).timestamp(),
                                      stage - 1)
        elif stage == 1:
            items.schedule_escalation(item_id, _instant(item["stage2_at"]).timestamp(), 1)
        else:
            items.schedule_escalation(item_id, None, 2)
        return outcomes

    def _send_stage(self, item: dict[str, str], stage: int, now: datetime) -> list[str]:
        sub = self.store.get(item["subscriber"]) if item.get("subscriber") else None
        late = now >= _instant(item["due_by"])
        escalation = Escalation(item, stage, sub.name if sub else "",
                                sub.timezone if sub else "UTC", late)
        address = self.care.team_email if stage == 1 else self.care.escalation_email
        outcomes = []
        if address:
            outcomes.append(self._email(escalation, address, now))
        webhook = self.webhook
        if webhook is not None:
            body = self.messages.webhook_body(escalation, now)
            outcomes.append(self._once(item["id"], stage, "webhook", lambda: webhook.post(
                body, f"{item['id']}:{stage}")))
        if any(o.endswith(":sent") for o in outcomes):
            self.store.counters.incr(counters.loop(f"escalated_{stage}",
                                                          iso_week(now.astimezone(UTC).date())))
        log.warning("review item=%s level=%s escalated stage=%s: %s", item["id"],
                    item.get("level"), stage, ", ".join(outcomes) or "nowhere configured")
        return outcomes

    def _email(self, e: Escalation, address: str, now: datetime) -> str:
        """The stage's email, once per (item, stage), through the send path."""
        item_id, stage = e.item["id"], e.stage
        key = f"{item_id}:{stage}:email"
        if self.store.send_claims.state(SCOPE, key):
            return f"{key}:already"  # claimed before the email was a kind: never twice
        ledger = self.store.ledgers.sends(f"review-{item_id}",
                                          f"{CARE_TEAM_EMAIL.name}:{item_id}:{stage}")
        opened = _instant(e.item.get("at") or e.item[f"stage{stage}_at"])
        domain = self.messages.sender.rpartition("@")[2].rstrip(">") or "localhost"
        out = Outgoing(CARE_TEAM_EMAIL, "email", None, address, ledger,
                       compose=lambda at: self.messages.email(e, address, at),
                       # the same id on every attempt: a retry after a lost answer (the
                       # connection died after DATA) is the same message, not a second one
                       message_id=message_ids.message_id_for(
                           self.secret_key, CARE_TEAM_EMAIL.key(item_id, str(stage)),
                           "escalation", opened.date(), domain),
                       on_permanent=lambda exc: log.error("escalation %s refused: %s", key,
                                                          exc.message))
        try:
            sent = self.path.send(out, now)
        except RetryLater as exc:
            log.warning("escalation %s to retry: %s", key, exc.reason)
            return f"{key}:retry"
        return f"{key}:{'already' if sent.startswith('already') else sent}"

    def _once(self, item_id: str, stage: int, channel: str, send: Callable[[], object]
              ) -> str:
        key = f"{item_id}:{stage}:{channel}"
        claims = self.store.send_claims
        if not claims.claim(SCOPE, key):
            return f"{key}:already"
        try:
            send()
        except DeliveryError as exc:
            if exc.permanent:
                claims.finish(SCOPE, key, "failed")
                log.error("escalation %s refused: %s", key, exc.message)
                return f"{key}:failed"
            claims.release(SCOPE, key)
            log.warning("escalation %s to retry: %s", key, exc.message)
            return f"{key}:retry"
        claims.finish(SCOPE, key, "sent")
        return f"{key}:sent"
