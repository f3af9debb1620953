"""Twilio's own keyword handling (Advanced Opt-Out with its defaults), in front of the fake.

What a person's phone gets when they text our number: Twilio answers its single-word keywords
itself (STOP and friends: an opt-out confirmation and, from then on, 21610 for every message we
try to send them until they text START; START/YES/UNSTOP: an opt-in confirmation; HELP/INFO: the
help text), then passes every text on to our webhook, whose TwiML reply is sent too. A test sees
every reply the person receives, so double or missing answers show.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from testing.twilio_api import FakeTwilio

OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout",
                     "revoke"})
OPT_IN = frozenset({"start", "yes", "unstop"})
HELP = frozenset({"help", "info"})
OPT_OUT_REPLY = ("You have successfully been unsubscribed. You will not receive any more "
                 "messages from this number. Reply START to resubscribe.")
OPT_IN_REPLY = ("You have successfully been re-subscribed to messages from this number. Reply "
                "HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.")
HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.S)


@dataclass
class Carrier:
    """Texts from people to our number, through Twilio's keyword handling, to our webhook."""

    fake: FakeTwilio
    # posts one signed inbound-SMS webhook (phone, body) to the app; returns (status, TwiML)
    webhook: Callable[[str, str], tuple[int, str]]
    # (to, body) of every reply a person received, Twilio's and ours, in order
    received: list[tuple[str, str]] = field(default_factory=list)

    def text(self, phone: str, body: str) -> list[str]:
        """`phone` texts `body`; the replies it receives (Twilio's first, then ours)."""
        word = body.strip().lower()
        replies = []
        if word in OPT_OUT:
            self.fake.reject_number(phone, 21610)
            replies.append(OPT_OUT_REPLY)
        elif word in OPT_IN:
            self.fake.accept_number(phone)
            replies.append(OPT_IN_REPLY)
        elif word in HELP:
            replies.append(HELP_REPLY)
        status, twiml = self.webhook(phone, body)
        assert status == 200, (status, twiml)
        replies += [_unescape(m) for m in _MESSAGE.findall(twiml)]
        self.received += [(phone, reply) for reply in replies]
        return replies


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))
