"""The suppression lists (storage/suppression.py): numbers written in clear by older code are
still honoured, and rewritten hashed."""

from __future__ import annotations

import redis

from reminders.storage import keys
from tests.conftest import Cli

PHONE = "+13125550142"
ADDRESS = "Ana.Lima@example.org"
ZONE = "America/Chicago"

def test_suppression_lists_written_in_clear_are_still_honoured(cli: Cli,
                                                              redis_client: redis.Redis) -> None:
    redis_client.sadd(keys.SUPPRESSED_PHONES, PHONE)  # as the code before hashing wrote it
    refused = cli("subscribe", PHONE, "--confirmed")
    assert refused.returncode == 2 and "asked us to stop" in refused.stderr
    assert cli("reply", PHONE, "START").returncode == 0  # their own START lifts it
    assert redis_client.smembers(keys.SUPPRESSED_PHONES) == set()
    assert cli("reply", PHONE, "STOP").returncode == 0
    assert cli("forget", PHONE).returncode == 0
    [member] = redis_client.smembers(keys.SUPPRESSED_PHONES)
    assert PHONE[2:].encode() not in member and member.startswith(b"h:")
