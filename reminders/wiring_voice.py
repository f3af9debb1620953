"""Wiring of the voice channel (issue 32): the Twilio Calls transport, the call's TwiML
scripts, the keypad answers and how an evening's call is rendered. A mixin of wiring.Services,
kept apart so that each file stays readable; the attribute names are Services' own
(`svc.voice`, `svc.voice_scripts`, `svc.voice_keys`).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from reminders.app.evenings.nightly import Rendered
from reminders.app.voice.keypad import VoiceKeys
from reminders.domain.content import Selection
from reminders.domain.subscriber import Subscriber
from reminders.messages.voice import VoiceScripts

if TYPE_CHECKING:
    from reminders.app.replies.inbound import Inbound
    from reminders.channels.twilio_sms import TwilioSms
    from reminders.channels.twilio_voice import TwilioVoice
    from reminders.messages.render import Renderer
    from reminders.messages.replies import Replies
    from reminders.settings import Settings
    from reminders.storage.subscribers import Store


class VoiceWiring:
    """What Services builds for the evening call (its other parts come from Services)."""

    if TYPE_CHECKING:
        settings: Settings

        @property
        def store(self) -> Store: ...

        @property
        def renderer(self) -> Renderer: ...

        @property
        def replies(self) -> Replies: ...

        def _twilio(self) -> TwilioSms: ...

        def inbound(self, now: datetime) -> Inbound: ...

    @cached_property
    def voice(self) -> TwilioVoice:
        from reminders.channels.twilio_voice import TwilioVoice
        url = self.settings.public_url
        return TwilioVoice(self._twilio(), url + "/voice/status", url + "/voice/amd")

    @cached_property
    def voice_scripts(self) -> VoiceScripts:
        s = self.settings
        return VoiceScripts(s.templates_dir, s.program_name, f"{s.public_url}/voice/gather")

    @cached_property
    def voice_keys(self) -> VoiceKeys:
        return VoiceKeys(self.store, self.settings, self.replies, self.voice_scripts,
                         self.renderer, self.inbound)

    def _voice_render(self, sub: Subscriber, selection: Selection, day: date) -> Rendered:
        return Rendered(self.voice_scripts.evening(sub, selection, day.isoformat()))
