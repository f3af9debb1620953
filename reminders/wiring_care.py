"""Wiring of the care-team loop (review items, silence check-ins, escalations to the care team)
and its two hooks: a new review item (`_on_review`) and a nightly text's new status
(`after_status`). A mixin of wiring.Services, kept apart so that each file stays readable; the
attribute names are Services' own (`svc.reviews`, `svc.silence`, `svc.escalator`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from reminders.app.care.escalation import Escalator
from reminders.app.care.review import Reviews
from reminders.app.care.silence import Silence
from reminders.channels.webhook import SignedWebhook
from reminders.domain.deadlines import IMMEDIATE
from reminders.messages.care_team import CareTeamMessages

if TYPE_CHECKING:
    from reminders.app.sending.send_path import SendPath
    from reminders.messages.replies import Replies
    from reminders.settings import Settings
    from reminders.storage.client import Client
    from reminders.storage.subscribers import Store


class CareWiring:
    """What Services builds for the care-team loop (its other parts come from Services)."""

    if TYPE_CHECKING:
        settings: Settings
        checkin_handoff: Callable[[str, str], object] | None
        review_handoff: Callable[[str], object] | None

        @property
        def redis(self) -> Client: ...

        @property
        def store(self) -> Store: ...

        @property
        def replies(self) -> Replies: ...

        @property
        def send_path(self) -> SendPath: ...

    @cached_property
    def reviews(self) -> Reviews:
        return Reviews(self.store, self.settings.care)

    @cached_property
    def silence(self) -> Silence:
        return Silence(self.store, self.settings.care, self.replies, self.send_path,
                       self.reviews)

    @cached_property
    def escalator(self) -> Escalator:
        s, care = self.settings, self.settings.care
        webhook = SignedWebhook(care.webhook_url, care.webhook_secret) if care.webhook_url else None
        messages = CareTeamMessages(s.templates_dir, s.program_name, s.public_url, s.email_from)
        return Escalator(self.store, self.reviews, care, messages, self.send_path, s.secret_key,
                         webhook)

    def _on_review(self, item_id: str) -> None:
        """A new review item: an emergency or a crisis goes to the care team at once."""
        if self.reviews.require(item_id).get("level") not in IMMEDIATE:
            return  # the sweep tells the care team when its deadline passes
        if self.review_handoff is not None:
            self.review_handoff(item_id)
        else:
            self.escalator.run(item_id, datetime.now(UTC))

    def after_status(self, subscriber_id: str, evening: date, status: str,
                     unreachable_code: str) -> str:
        """A nightly text's new status, for the care-team loop (app/care/silence.py)."""
        now = datetime.now(UTC)
        action = self.silence.after_status(subscriber_id, evening, status, unreachable_code,
                                           now)
        if action == "checkin":
            if self.checkin_handoff is not None:
                self.checkin_handoff(subscriber_id, evening.isoformat())
            else:
                self.silence.send_checkin(subscriber_id, evening, now)
        return action
