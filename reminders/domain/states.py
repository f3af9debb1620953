"""The states a person, a channel and a message can be in, as StrEnums (they compare equal to
their stored strings, so the Redis hashes and the JSON of the contract keep the same values).
"""

from __future__ import annotations

from enum import StrEnum


class SmsStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    OPTED_OUT = "opted_out"
    INVALID = "invalid"
    NONE = "none"


class EmailStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCING = "bouncing"
    NONE = "none"


# Provider delivery statuses, by rank: a higher rank wins, rank 9 is terminal (nothing replaces
# it), so a late `sent` never overwrites `delivered`.
DELIVERY_RANKS = {"accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
                  "receiving": 4, "received": 5, "read": 6, "delivered": 9, "undelivered": 9,
                  "failed": 9, "canceled": 9,
                  # an evening call's (Twilio's CallStatus): how far it got, then its outcome
                  "initiated": 2, "ringing": 3, "in-progress": 5, "completed": 9, "busy": 9,
                  "no-answer": 9}
