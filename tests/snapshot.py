"""A whole-database Redis snapshot, to prove a request changed nothing at all.

Every key with its DUMP (type, value and encoding, whatever the type) and its absolute expiry
(PEXPIRETIME: a TTL refreshed by a read would show up, one merely ticking down does not).
"""

from __future__ import annotations

import redis

Snapshot = dict[bytes, tuple[bytes, int]]


def snapshot(client: redis.Redis) -> Snapshot:
    found: Snapshot = {}
    for key in client.scan_iter(count=1000):
        dumped = client.dump(key)
        if dumped is None:  # expired between SCAN and DUMP
            continue
        found[key] = (bytes(dumped), int(client.execute_command("PEXPIRETIME", key)))
    return found


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """Readable names of what changed: added, removed and rewritten keys."""
    changed = [f"+{k!r}" for k in after.keys() - before.keys()]
    changed += [f"-{k!r}" for k in before.keys() - after.keys()]
    changed += [f"~{k!r}" for k in before.keys() & after.keys() if before[k] != after[k]]
    return sorted(changed)
