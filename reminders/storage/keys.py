"""Every Redis key name the service uses (keys_care.py: the care-team loop's), all under the
`fc:` prefix, so the service can share a Redis database and an operator can find what is ours.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import date
from typing import NamedTuple

from reminders.domain.validation import inbox_of

PREFIX = "fc:"

# Due index: who is due when, split in DUE_SHARDS small sorted sets (member = subscriber id,
# score = next send instant, UTC epoch seconds), shard = due_shard_number(id). Small enough for
# Redis to keep each as a listpack (at most zset-max-listpack-entries, 128, members) up to
# about 1.6 million subscribers: ~30 bytes a person instead of ~100 in one big skiplist.
# DUE_NEXT (sorted set, member = shard number, score = a lower bound of the shard's earliest
# instant) says which shards may hold someone due, so a tick reads only those.
DUE_SHARDS = 16384
DUE_HASH_PRIME = 1_048_573
DUE_SHARD_PREFIX = PREFIX + "due:s:"
DUE_NEXT = PREFIX + "due:next"
# The due index before the shards (one sorted set): moved into the shards at start
# (due_index.migrate), and still claimed from, so nobody an older process put there is lost.
DUE = PREFIX + "due"
# Claimed-but-not-yet-rescheduled subscribers: member = id, score = lease expiry (epoch).
CLAIMS = PREFIX + "claims"
# Original due instant of each claimed subscriber, so an expired claim goes back unchanged.
CLAIM_ORIGIN = PREFIX + "claims:origin"
# Evenings handed to a sender but not finished yet: member "<id>:<date>", score = last hand-off.
# The dispatcher hands stale ones out again, so a task lost with a broker or worker is retried.
INFLIGHT = PREFIX + "inflight"
# When each in-flight evening was first handed out again (hash, field = the INFLIGHT member,
# value = epoch): the sweep gives up on it after the late limit, so it cannot loop all night.
INFLIGHT_RESENDS = PREFIX + "inflight:resends"
# Append-only consent and audit log (a stream); entries name the subscriber id. The entry id
# carries the time; the fields are always the same short names, in the same order (so a stream
# node stores them once, in its master entry): see consent_log.ConsentEvent. Each person's
# entry ids are also listed in their subscriber hash (field `cl`, the newest) and in
# consent_overflow() (older ones); entries older than consent_log.CONSENT_RETENTION are trimmed.
CONSENT_LOG = PREFIX + "consent"
# Set once every entry written before the per-person index existed has been indexed.
CONSENT_INDEXED = PREFIX + "consent:indexed"
# Numbers and addresses that asked us to stop; kept after `forget` so we keep honouring it.
SUPPRESSED_PHONES = PREFIX + "suppressed:phone"
SUPPRESSED_EMAILS = PREFIX + "suppressed:email"
# Cumulative counters for /metrics (never expire): "<what>:<channel>[:<detail>]" -> count.
METRICS = PREFIX + "metrics"
# Broker queue entries no worker could read (a list, newest first, capped): see broker.py.
BROKER_REJECTED = PREFIX + "broker:rejected"
# The last capacity check's result (hash, see capacity_check.py), and the short-lived string
# whose holder runs the next check (so one dispatcher checks once per period, not every tick).
CAPACITY = PREFIX + "capacity"
CAPACITY_REFRESH = PREFIX + "capacity:refresh"
# The people due per minute as last counted (a JSON string, see capacity_check.DueLoad): what the
# console's Tonight page shows between two counts, instead of reading the whole due index.
CAPACITY_LOAD = PREFIX + "capacity:load"
# Per-night counters for `stats`: hash, field = outcome, value = count.
STATS_PREFIX = PREFIX + "stats:"

# Send records live this long: long enough for rotation history and monthly stats.
NIGHT_TTL_SECONDS = 45 * 24 * 3600
STATS_TTL_SECONDS = 400 * 24 * 3600


def due_shard_number(subscriber_id: str) -> int:
    """The due shard of a subscriber: a hash the Lua scripts compute the same way
    (lua/due_functions.lua, shard_of); crc32 is not available to them. Reduced modulo a prime
    (2**20 - 3) first: modulo 2**14 alone, ids of nine decimal digits fill the shards unevenly."""
    h = 0
    for byte in subscriber_id.encode():
        h = (h * 31 + byte) % DUE_HASH_PRIME
    return h % DUE_SHARDS


def due_shard(subscriber_id: str) -> str:
    return f"{DUE_SHARD_PREFIX}{due_shard_number(subscriber_id)}"


def subscriber(subscriber_id: str) -> str:
    return f"{PREFIX}sub:{subscriber_id}"


def subscriber_pattern() -> str:
    return f"{PREFIX}sub:*"


def subscriber_id_of(key: str | bytes) -> str:
    """The subscriber id in a `subscriber()` key (as SCAN returns it)."""
    text = key.decode() if isinstance(key, bytes) else key
    return text.removeprefix(f"{PREFIX}sub:")


# Phone and email indexes: instead of one string key per number or address, hashes in a fixed
# number of buckets (field = E.164 number or lower-cased address, value = subscriber id). At
# 16384 buckets each stays a small listpack-encoded hash up to a million or two subscribers.
INDEX_BUCKETS = 16384


class IndexEntry(NamedTuple):
    """Where one phone number or email address is indexed: hash `key`, field `field`."""

    key: str
    field: str


def _bucket(value: str) -> int:
    # crc32: stable across processes and Python versions (unlike hash()).
    return zlib.crc32(value.encode()) % INDEX_BUCKETS


def consent_overflow(subscriber_id: str) -> str:
    """A person's older consent-log entry ids, when their subscriber hash has no room left."""
    return f"{PREFIX}consent:of:{subscriber_id}"


def phone_index(e164: str) -> IndexEntry:
    return IndexEntry(f"{PREFIX}phones:{_bucket(e164)}", e164)


def email_index(address: str) -> IndexEntry:
    field = address.lower()
    return IndexEntry(f"{PREFIX}emails:{_bucket(field)}", field)


def phone_index_pattern() -> str:
    return f"{PREFIX}phones:*"


def email_index_pattern() -> str:
    return f"{PREFIX}emails:*"


NIGHT_PREFIX = PREFIX + "night:"  # every night record's key starts so (a recount's SCAN)


def night(subscriber_id: str, local_date: date) -> str:
    """One subscriber's send record for one local evening (all channels)."""
    return f"{NIGHT_PREFIX}{subscriber_id}:{local_date.isoformat()}"


def night_stats(local_date: date) -> str:
    return f"{STATS_PREFIX}{local_date.isoformat()}"


def message_index(provider_id: str) -> str:
    """Provider message id (Twilio SID) -> the night record it belongs to."""
    return f"{PREFIX}msg:{provider_id}"


def inbound_counter(e164: str) -> str:
    """Replies sent to one number this hour (the inbound rate limit)."""
    return f"{PREFIX}inbound:{e164}"


def email_confirmation(address: str) -> str:
    """Set while a confirmation email to `address`'s inbox was sent recently (named by a hash:
    the address may belong to someone who never asked us for anything). Plus and (Gmail) dot
    variants of one inbox share the key (validation.inbox_of)."""
    digest = hashlib.sha256(inbox_of(address).encode()).hexdigest()[:32]
    return f"{PREFIX}emailconf:{digest}"


def email_changes(subscriber_id: str) -> str:
    """How many addresses one subscriber asked us to confirm by text today."""
    return f"{PREFIX}emailchanges:{subscriber_id}"

# The shared SMS pacing state: the instant (Redis clock) from which the next send may start.
SMS_RATE = PREFIX + "rate:sms"
VOICE_RATE = PREFIX + "rate:voice"  # the calls' own pace (TWILIO_CPS), same booking as texts
VOICE_CALLERS = PREFIX + "voice:callers"  # set: who gets the evening call (voice_callers.py)
# Twilio refused our account or credentials (circuit.py): while this string (the reason)
# exists, no worker sends a text; it expires after a short time, then the next send tries.
SMS_CIRCUIT = PREFIX + "circuit:sms"
# The reason of that refusal, kept until Twilio accepts a request again (for /healthz).
SMS_AUTH_FAILING = PREFIX + "circuit:sms:failing"


def inflight_member(subscriber_id: str, local_date: date) -> str:
    return f"{subscriber_id}:{local_date.isoformat()}"


# Open foot-problem reports (red flags), owned by flags.py: one list per person of JSON entries
# {"at", "category", "text"}, and the people with an open report, score = the oldest report.
# A report never expires by itself: an operator closes it with an outcome (`flags clear`).
FLAGS_OPEN = PREFIX + "flags:open"
# Texts a person should read (not understood, foot problems, crisis, worsening), owned by
# inbox.py: one stream, entries {phone, subscriber, at, text, level, category, language}.
INBOX = PREFIX + "inbox"


def flags(subscriber_id: str) -> str:
    return f"{PREFIX}flags:{subscriber_id}"


def temps(subscriber_id: str) -> str:
    """Foot temperatures (TEMP), owned by temps.py: hash, field = local evening (ISO date),
    value = the reading as the person gave it ("C:31.2:33.8"); the last TEMPS_KEPT evenings."""
    return f"{PREFIX}temps:{subscriber_id}"


def inbound_seen(e164: str) -> str:
    """Texts from one number already answered: hash, field = MessageSid, value = our reply.

    Per number (not per SID) so `forget` can erase it with the rest: a reply can quote an
    address or a time. See reminders/replay.py for the bounds and the expiry.
    """
    return f"{PREFIX}seen:in:{e164}"


def consent_seen(e164: str) -> str:
    """Consent-changing texts from one number: sorted set, member = MessageSid, score = arrival
    (microseconds). Kept long and bounded (storage/replay.py), past `forget`: so the key names a
    hash of the number, as the suppression list does, not the number."""
    return f"{PREFIX}seen:consent:{hashlib.sha256(e164.encode()).hexdigest()[:32]}"


def status_seen(message_sid: str) -> str:
    """Status callbacks already applied for one message: a bitmap, one bit per status."""
    return f"{PREFIX}seen:st:{message_sid}"


# A person's caregiver link (storage/caregivers.py): hash with the caregiver's number and name
# and each side's consent; and, per caregiver number, the people it is caregiver for (a set:
# one number may care for two people, and may be a subscriber itself).
def caregiver(subscriber_id: str) -> str:
    return f"{PREFIX}care:{subscriber_id}"


def caregiver_of(e164: str) -> str:
    return f"{PREFIX}care:by:{e164}"


# Texts sent to a person's caregiver (alerts, weekly summaries): hash, field = the text's key
# ("week:2026-W49", "alert:<ms>"), value = its state; "<key>_lease" while one is being sent.
# Refreshed on every write, gone CARE_SENT_TTL_SECONDS after the last one.
def caregiver_sent(subscriber_id: str) -> str:
    return f"{PREFIX}care:sent:{subscriber_id}"


CARE_SENT_TTL_SECONDS = 45 * 24 * 3600


# The operators' console (storage/operators.py): accounts, login sessions, failed logins.
# Accounts: hash, field = lower-cased email, value = JSON {"id", "hash", "created_at"}; the id
# is new at every `operator add`, and a session names it, so a removed (or re-added) operator's
# sessions end at their next request.
OPERATORS = PREFIX + "operators"


def console_session(token_digest: str) -> str:
    """One login session (a string "<email> <operator id>", expiring with the session); named
    by a digest of the cookie's token, so a copy of the database opens no session."""
    return f"{PREFIX}console:session:{token_digest}"


def login_failures(kind: str, who: str) -> str:
    """Failed console logins lately, per account (`kind` "account") or per client address
    ("address"); named by a digest (an address or a mistyped email is not ours to keep)."""
    digest = hashlib.sha256(who.lower().encode()).hexdigest()[:32]
    return f"{PREFIX}console:fail:{kind}:{digest}"


# Console imports (a job on a worker): IMPORTS sorted set, member = job id, score = when it was
# uploaded (the newest IMPORTS_KEPT are listed); per job a hash (who, file, state, counts), the
# uploaded bytes (a string, deleted when the job ends), the refused rows (a list of
# "<line>\t<name>\t<reason>", at most IMPORT_ERRORS_KEPT) and the ids of the people it enrolled
# pending (a list, for "ask all pending from this import"). All expire after 30 days.
IMPORTS = PREFIX + "imports"


def import_job(job_id: str) -> str:
    return f"{PREFIX}import:{job_id}"


def import_file(job_id: str) -> str:
    return f"{PREFIX}import:{job_id}:file"


def import_errors(job_id: str) -> str:
    return f"{PREFIX}import:{job_id}:errors"


def import_pending(job_id: str) -> str:
    return f"{PREFIX}import:{job_id}:pending"


# The yearly re-confirmation (storage/reconfirm.py): hash per year, field = who was asked
# (a subscriber id, or "cg:<subscriber id>" for that person's caregiver), value =
# "<state>:<unix seconds>" (asking, asked, yes, paused). Kept RECONFIRM_TTL_SECONDS.
def reconfirm(year: int) -> str:
    return f"{PREFIX}reconfirm:{year}"


RECONFIRM_TTL_SECONDS = 800 * 24 * 3600
