"""The message-kind and channel registries: a person's channels as a set (old records read, the
new form written), each kind's idempotency key, and app/ reading providers' answers only through
DeliveryError's neutral flags (never a provider code, never the word "timeout")."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from reminders.domain import channels, kinds
from reminders.domain.channels import Recipient
from reminders.settings import PROJECT_ROOT


@pytest.mark.parametrize("stored,expected", [
    ("sms", {"sms"}), ("email", {"email"}), ("both", {"sms", "email"}),
    ("sms,email", {"sms", "email"}), ("email,sms", {"sms", "email"}),
])
def test_a_persons_channels_are_a_set_read_from_old_and_new_records(
        stored: str, expected: set[str]) -> None:
    assert channels.parse_set(stored) == expected


def test_the_set_is_written_in_the_new_form_and_shown_with_the_contracts_word() -> None:
    both = channels.parse_set("both")
    assert channels.encode_set(both) == "sms,email"  # registry order, whatever the input
    assert channels.legacy_name(both) == "both"
    assert channels.legacy_name(frozenset({"email"})) == "email"
    for damaged in ("", "fax", "sms,fax", ","):
        with pytest.raises(ValueError):
            channels.parse_set(damaged)


def test_each_channel_says_what_a_providers_verdict_does_to_its_own_state() -> None:
    sms, email = channels.get("sms"), channels.get("email")
    assert (sms.status, email.status) == ("sms_status", "email_status")
    assert sms.on_recipient[Recipient.OPTED_OUT] == "opted_out"
    assert email.on_recipient[Recipient.INVALID] == "bouncing"
    assert sms.lookup == channels.Lookup.PROVIDER_LIST
    assert email.lookup == channels.Lookup.MESSAGE_ID
    with pytest.raises(ValueError, match="declared twice"):
        channels.register(channels.ChannelSpec("sms", "phone", "sms_status",
                                               channels.Lookup.PROVIDER_LIST))


def test_each_kind_is_once_per_who_kind_and_period() -> None:
    day = date(2026, 11, 29)
    assert kinds.NIGHTLY.key("123", kinds.evening(day)) == "123:nightly:2026-11-29"
    assert kinds.WEEKLY.key("123", kinds.iso_week(day)) == "123:weekly:2026-W48"
    assert kinds.WEEKLY.record_field("sms") == "weekly"
    assert kinds.NIGHTLY.record_field("email") == "email"
    assert kinds.CARE_ALERT.audience == kinds.Audience.CAREGIVER
    assert set(kinds.names()) >= {"nightly", "weekly", "care_alert", "confirmation", "checkin",
                                  "reconfirm", "care_reconfirm"}
    for kind in map(kinds.get, kinds.names()):
        assert set(kind.channels) <= set(channels.names()), kind.name
        assert set(kind.templates) == set(kind.channels), kind.name
        for template in kind.templates.values():
            # "<file>#<macro>": a macro of a file of replies (the check-in, the re-confirmation)
            path, _, macro = template.partition("#")
            assert (PROJECT_ROOT / "templates" / path).is_file(), template
            if macro:
                text = (PROJECT_ROOT / "templates" / path).read_text()
                assert f"{{% macro {macro}(" in text, template


# Provider vocabulary app/ must not match on: Twilio's codes, HTTP statuses, the word timeout.
PROVIDER_WORDS = {"timeout", "connection", "429", "20429", "21610", "21211", "21614", "30006",
                  "20003", "20005"}


def test_app_code_never_matches_a_provider_code_or_the_word_timeout() -> None:
    found = []
    for path in sorted((PROJECT_ROOT / "reminders" / "app").glob("*.py")):
        tree = ast.parse(Path(path).read_text())
        # Any such constant in code (a comparison, a tuple of "ambiguous codes" to match against);
        # log formats and docstrings are longer strings and do not count.
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in PROVIDER_WORDS:
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert found == []
