"""The Redis key names of the counts kept with the records and the name index (storage/tally.py,
storage/engagement.py, storage/names.py): keys.py's rules (the `fc:` prefix), kept apart so
that each file stays readable.
"""

from __future__ import annotations

from reminders.storage.keys import PREFIX

# Counts kept with the records (storage/tally.py): hash, field "<dimension>:<value>" (sms:active,
# language:es, zone:America/Chicago, flag:open, ...) and "total" -> people; written by the same
# scripts that write a subscriber hash (lua/tally_functions.lua), rebuilt by `stats --recount`.
TALLY = PREFIX + "tally"
# Opt-outs by text, by the stop word they used (hash, field = the word group: "stop", "cancel",
# "alto", ..., "phrase" for a plain request) -> count; events, so the recount leaves it alone.
TALLY_STOP_WORDS = PREFIX + "tally:stopwords"
# Who is paused until when (sorted set, member = id, score = the last paused date as YYYYMMDD).
TALLY_PAUSED = PREFIX + "tally:paused"
# Scratch hash of an engagement recount (storage/engagement.py): "<date>|<kind>:<week>/<lang>".
ENGAGEMENT_RECOUNT = PREFIX + "engagement:recount"
# Names for search (storage/names.py): per pair of consent states ("active/none", ...) and
# "flagged", a directory (sorted set of leaf bounds) and leaves "<set>|<bound>" of at most 128
# "<normalised name>\0<id>" members (all scores 0, read by lexical range).
NAMES_PREFIX = PREFIX + "names:"
