"""The Redis key names of the care-team loop (review items, once-only sends, the unreachable
list, when each person was last heard from, their conversation): keys.py's rules (the `fc:`
prefix), kept apart so that each file stays readable.
"""

from __future__ import annotations

from reminders.storage.keys import PREFIX

# Review items (storage/review.py): one hash per item (who, what, level, deadline, owner,
# outcome), the open ones (sorted set, score = opened), the ones waiting for an escalation stage
# (score = when it falls due), the closed ones (score = closed), the next id, and per person
# (or unknown number) their items: a hash "kind:level" -> the open item (one at a time) and the
# set of all their items (for `forget`).
REVIEW_SEQ = PREFIX + "review:seq"
REVIEW_OPEN = PREFIX + "review:open"
REVIEW_ESCALATE = PREFIX + "review:escalate"
REVIEW_CLOSED = PREFIX + "review:closed"


def review(item_id: str) -> str:
    return f"{PREFIX}review:{item_id}"


def review_open_of(who: str) -> str:
    return f"{PREFIX}review:of:{who}"


def review_all_of(who: str) -> str:
    return f"{PREFIX}review:all:{who}"


# Sends that must happen once (storage/send_claims.py): a string per (scope, key), e.g.
# ("escalation", "<item>:<stage>:webhook") or ("silence_item", "<person>:<stretch>"), value =
# the send's state; kept SEND_CLAIM_TTL_SECONDS.
def send_claim(scope: str, key: str) -> str:
    return f"{PREFIX}once:{scope}:{key}"


SEND_CLAIM_TTL_SECONDS = 90 * 24 * 3600


# Messages of the kinds claimed per owner (storage/sends.py): hash per owner (a subscriber id,
# or "review-<item id>" for the care team's email about an item), field = "<kind>:<period>"
# ("checkin:<stretch>", "reconfirm:2026", "care_team_email:<item>:<stage>"), value = its state,
# with "<field>_<name>" beside it (lease, id, status...). Refreshed on every write, gone
# SENDS_TTL_SECONDS after the last one (longer than a year: the yearly re-confirmation's).
def sends(owner: str) -> str:
    return f"{PREFIX}sends:{owner}"


SENDS_TTL_SECONDS = 400 * 24 * 3600
# Numbers whose texts the carrier could not deliver (30003 unreachable, 30005 unknown,
# 30006 landline...), owned by storage/unreachable.py: hash, field = subscriber id,
# value = JSON {"at", "code"}.
UNREACHABLE = PREFIX + "unreachable"
HEARD = PREFIX + "heard"  # when each person last texted (storage/heard.py): id -> epoch


# A person's texts in and out but the nightly reminder (storage/conversation.py): list of JSON
# {"dir": "in"|"out", "at", "text", "kind", "level", "category", "sid"}, capped (newest last).
def conversation(subscriber_id: str) -> str:
    return f"{PREFIX}convo:{subscriber_id}"


CONVERSATION_MAX = 200
