"""Operators of the web console: accounts, logging in and out, and whose session is whose.

Passwords are hashed with Argon2id (argon2-cffi's defaults: memory-hard, salted, the
parameters kept in the hash). Login attempts are counted per account and per client address
for FAILURE_WINDOW, atomically and before any password is checked (a right password takes its
attempt back); past either limit a login is refused unchecked, so a guesser can neither try
many passwords on one account nor one password on many accounts, not even all at once. Each
check takes 64 MiB for a moment, so a process runs at most MAX_CONCURRENT_CHECKS at a time; a
login that waits longer than CHECK_WAIT_SECONDS for its turn is refused as busy. A
session names the operator's record id, which `operator add` renews and `operator remove`
deletes: an operator removed (or given a new password) is logged out at their next request.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reminders.app.records import audit
from reminders.domain.subscriber import now_iso
from reminders.domain.validation import InvalidInput, normalise_email
from reminders.storage.operators import OperatorRecord
from reminders.storage.subscribers import Store

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing a megabyte per guess would be a denial of service
MAX_ACCOUNT_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
FAILURE_WINDOW = 15 * 60  # seconds
MAX_CONCURRENT_CHECKS = 2
CHECK_WAIT_SECONDS = 10.0
_hasher = PasswordHasher()
_checks = threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS)


@cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so the answer takes as long either way."""
    return _hasher.hash(secrets.token_hex(16))


class LoginRefused(Exception):
    """Not logged in; str(e) is what the login page says."""


def add(store: Store, email: str, password: str, now: datetime, by: str) -> bool:
    """Create the account, or give it a new password; True when it is new. Either way its
    earlier sessions end (a new record id)."""
    address = normalise_email(email).lower()
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    existed = store.operators.get(address) is not None
    store.operators.put(OperatorRecord(address, secrets.token_hex(8), _hasher.hash(password),
                                     now_iso(now)))
    audit.record(store, by, "operator_added" if not existed else "operator_password",
                 address)
    return not existed


def remove(store: Store, email: str, by: str) -> None:
    address = email.strip().lower()
    if not store.operators.remove(address):
        raise InvalidInput(f"no operator {email.strip()!r}")
    audit.record(store, by, "operator_removed", address)


def listed(store: Store) -> list[dict[str, str]]:
    return [{"email": r.email, "created_at": r.created_at} for r in store.operators.all_records()]


def login(store: Store, email: str, password: str, address: str, hours: int) -> str:
    """A new session's token for the cookie; LoginRefused says why not."""
    account = email.strip().lower()[:254]
    by_account, by_address = store.operators.count_attempt(account, address, FAILURE_WINDOW)
    if by_account > MAX_ACCOUNT_FAILURES or by_address > MAX_ADDRESS_FAILURES:
        raise LoginRefused("Too many failed attempts. Wait 15 minutes, then try again.")
    record = store.operators.get(account) if account else None
    if not _checks.acquire(timeout=CHECK_WAIT_SECONDS):
        raise LoginRefused("The console is busy. Try again in a minute.")
    try:
        verified = _verified(record, password[:MAX_PASSWORD])
    finally:
        _checks.release()
    if not verified:
        raise LoginRefused("Wrong email or password.")
    assert record is not None
    store.operators.forget_failures(account)
    store.operators.uncount_address(address)
    token = secrets.token_urlsafe(32)
    store.operators.open_session(token, record.email, record.id, hours * 3600)
    audit.record(store, record.email, "console_login", "")
    return token


def _verified(record: OperatorRecord | None, password: str) -> bool:
    try:
        return _hasher.verify(record.password_hash if record else _dummy_hash(), password) \
            and record is not None
    except (VerificationError, InvalidHashError):
        return False


def current(store: Store, token: str) -> str | None:
    """The logged-in operator's email, or None (no session, expired, or the operator was
    removed or re-added since)."""
    found = store.operators.session(token) if token else None
    if found is None:
        return None
    email, operator_id = found
    record = store.operators.get(email)
    return email if record is not None and record.id == operator_id else None


def logout(store: Store, token: str, email: str) -> None:
    store.operators.close_session(token)
    audit.record(store, email, "console_logout", "")
