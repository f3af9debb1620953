"""Which signed webhook fields we believe: Twilio's signature cannot tell where one ends.

Twilio signs the URL followed by every parameter's name and value, sorted by name, with no
separator. So `MessageSid=SMab…` + `NumMedia=0` signs exactly like `MessageSid=SMab…NumMedia0`
alone: a captured START could be replayed with a "new" MessageSid and slip past the replay
memory. A signed request is therefore also checked for shape:

- MessageSid is exactly a message SID (`SM` or `MM` and 32 lower-case hex digits), and SmsSid /
  SmsMessageSid, when sent, are the same SID;
- the SID-like and numeric fields Twilio documents have their documented shape;
- a parameter whose name is not one Twilio documents is refused when the split is ambiguous:
  its name begins with a documented name, or a documented name begins with it (`MessageSidS`,
  `NumMedia0x`). Other unknown names (Twilio adds fields now and then) are let through.
Any of these is a 400 and changes nothing.
"""

from __future__ import annotations

import re

from reminders.entry.web.twilio_auth import Refused

MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")
_SHAPES = {
    "AccountSid": re.compile(r"AC[0-9a-f]{32}"),
    "MessagingServiceSid": re.compile(r"MG[0-9a-f]{32}"),
    "NumMedia": re.compile(r"[0-9]{1,2}"),
    "NumSegments": re.compile(r"[0-9]{1,3}"),
    "ReferralNumMedia": re.compile(r"[0-9]{1,2}"),
    "ErrorCode": re.compile(r"[0-9]{0,6}"),
    "ApiVersion": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}
# Twilio's messaging webhooks (incoming message and status callback), as documented.
DOCUMENTED = frozenset({
    "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "MessagingServiceSid", "From", "To",
    "Body", "NumMedia", "NumSegments", "ReferralNumMedia", "FromCity", "FromState", "FromZip",
    "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry", "ApiVersion", "SmsStatus",
    "MessageStatus", "ErrorCode", "ErrorMessage", "RawDlrDoneDate", "OptOutType",
    "ProfileName", "WaId", "Forwarded", "FrequentlyForwarded", "ButtonText", "ButtonPayload",
    "Latitude", "Longitude", "Address", "Label", "ChannelMetadata", "AddOns", "ReferralBody",
    "ReferralHeadline", "ReferralSourceId", "ReferralSourceType", "ReferralSourceUrl",
    "ReferralMediaId", "ReferralMediaContentType", "ReferralMediaUrl", "ReferralCtwaClid",
    "ChannelToAddress", "ChannelPrefix", "ChannelInstallSid", "EventType",
})
_INDEXED = re.compile(r"(?:MediaUrl|MediaContentType)[0-9]{1,2}")


def message_sid(fields: dict[str, str]) -> str:
    """The webhook's message SID, well formed and consistent; Refused(400) otherwise."""
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    if not MESSAGE_SID.fullmatch(sid):
        raise Refused(400, "MessageSid is required (SM or MM and 32 hex digits)")
    for name in ("MessageSid", "SmsSid", "SmsMessageSid"):
        if name in fields and fields[name] != sid:
            raise Refused(400, f"{name} differs from MessageSid")
    check_shapes(fields)
    return sid


def check_shapes(fields: dict[str, str]) -> None:
    for name, value in fields.items():
        shape = _SHAPES.get(name)
        if shape is not None and not shape.fullmatch(value):
            raise Refused(400, f"{name} is not shaped as Twilio sends it")
        if name in DOCUMENTED or _INDEXED.fullmatch(name):
            continue
        if name.startswith(("MediaUrl", "MediaContentType")) or any(
                name.startswith(known) or known.startswith(name) for known in DOCUMENTED):
            raise Refused(400, f"unexpected parameter {name[:40]!r}")
