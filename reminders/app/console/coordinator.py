"""What a coordinator does from the console that the CLI did before: enrol one person (the
double opt-in text and email go out), ask the people still pending (one, selected, or all),
add or remove a caregiver. Each goes through the same app/ functions as its command and leaves
an audit line naming the operator; asking again is limited to once a day per person (a
double-click, or two coordinators, never texts anyone twice); asking the pending people of
one import is once per person for that import, however often it is clicked.

Each ask is claimed (storage/send_claims.py) before the text, with a lease: a worker that dies
while asking leaves the claim unfinished, and after CLAIM_LEASE_SECONDS the next ask takes it
again. The text itself is once by its own record on the send path: the request is named after
the claim (Confirmations.text's `request`), so a retaken claim finds the text sent (or looks it
up at Twilio, when the answer was lost) instead of sending it twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from reminders.app.console import people_search
from reminders.app.people.confirmations import Confirmations
from reminders.app.people.preferences import Enrolment, enrol
from reminders.app.records import audit
from reminders.domain.subscriber import Subscriber
from reminders.settings import Settings
from reminders.storage import imports
from reminders.storage.subscribers import Store

SCOPE = "confirm"
# "Ask all pending from this import": once per (import, person), whenever it is clicked again.
IMPORT_SCOPE = "confirm-import"
MAX_ASKED_AT_ONCE = 1000
# Longer than one person's ask can take (a confirmation waits up to PACING_WAIT_SECONDS for its
# turn, then the text and the email): a claim this old and unfinished lost its worker.
CLAIM_LEASE_SECONDS = 1800
PROGRESS_EVERY = 20  # people between two progress reports of a long ask (a job's page)


@dataclass
class Asked:
    sent: list[str] = field(default_factory=list)  # handles
    already: list[str] = field(default_factory=list)  # asked today (or from this import)
    problems: list[str] = field(default_factory=list)
    since: str = "today"

    def summary(self) -> str:
        line = f"asked {len(self.sent)}"
        if self.already:
            line += f", {len(self.already)} already asked {self.since}"
        if self.problems:
            line += f", {len(self.problems)} not sent ({'; '.join(self.problems[:3])})"
        return line


def enrol_one(store: Store, settings: Settings, confirmations: Confirmations,
              request: Enrolment, operator: str, now: datetime) -> tuple[Subscriber, Asked]:
    """Enrol (pending) and send the double opt-in request now."""
    sub = enrol(store, settings, Enrolment(
        **{**request.__dict__, "confirmed": False, "source": "console",
           "words": audit.words(operator, "console enrol")}), now)
    return sub, ask(store, confirmations, [sub.id], operator, now)


def ask(store: Store, confirmations: Confirmations, ids: list[str], operator: str,
        now: datetime, job_id: str = "",
        progress: Callable[[Asked], None] | None = None) -> Asked:
    """Send the confirmation text (and email) to each pending person, at most once a day; for
    an import's people (`job_id`), at most once from that import. `progress` hears how it
    goes every PROGRESS_EVERY people."""
    asked = Asked(since="from this import" if job_id else "today")
    for done, subscriber_id in enumerate(ids, 1):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(asked)
        if len(asked.sent) + len(asked.problems) >= MAX_ASKED_AT_ONCE:
            break  # the rest on the next click: those asked now are skipped then
        sub = store.get(subscriber_id)
        if sub is None or "pending" not in (sub.sms_status, sub.email_status):
            continue
        scope, key = claim_key(sub.id, now, job_id)
        if not store.send_claims.claim(scope, key, now.timestamp(), CLAIM_LEASE_SECONDS):
            asked.already.append(sub.handle())
            continue
        request = f"{scope}:{key}"  # the text's own record: the same for a retaken claim
        texted = confirmations.text(sub, request=request)
        mailed = confirmations.mail(sub, request=request)
        problems = [a.problem for a in (texted, mailed) if a.problem]
        if texted or mailed:
            store.send_claims.finish(scope, key, "sent")
            asked.sent.append(sub.handle())
            audit.record(store, operator, "console_confirm",
                         f"{sub.id} (import {job_id})" if job_id else sub.id)
        else:
            store.send_claims.release(scope, key)
            asked.problems += problems or [f"{sub.handle()}: nothing to send"]
    return asked


def claim_key(subscriber_id: str, now: datetime, job_id: str = "") -> tuple[str, str]:
    """The (scope, key) an ask is claimed under: the person and the day, or the import."""
    if job_id:
        return IMPORT_SCOPE, f"{job_id}:{subscriber_id}"
    return SCOPE, f"{subscriber_id}:{now.date().isoformat()}"


def ask_import(store: Store, confirmations: Confirmations, job_id: str, operator: str,
               now: datetime, progress: Callable[[Asked], None] | None = None) -> Asked:
    """Ask everyone the import enrolled who is still pending, each once whatever the clicks."""
    ids = store.imports.pending(job_id, imports.IMPORT_PENDING_KEPT)
    return ask(store, confirmations, ids, operator, now, job_id=job_id, progress=progress)


def pending_ids(store: Store, now: datetime) -> list[str]:
    """Everyone whose number still waits for YES (sms:pending), by name."""
    found = people_search.search(store, "", "sms:pending", 1, now, per_page=MAX_ASKED_AT_ONCE)
    return [row["id"] for row in found.rows if row.get("id")]
