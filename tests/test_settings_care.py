"""The care-team loop's variables (settings_care.py): each read with its type, default and
check, a bad value of each one line naming it, and the defaults unchanged."""

from __future__ import annotations

import pytest

from reminders.domain.deadlines import ALWAYS, DEFAULT_DEADLINES, parse_deadlines
from reminders.settings import KNOWN_VARIABLES, ConfigError, load_settings
from reminders.settings_care import NAMES
from tests.conftest import Cli

SECRET = "s" * 16
URL = "https://ehr.clinic.example/hooks/reminders"


def test_every_care_variable_is_known_and_the_defaults_hold() -> None:
    assert set(NAMES) <= set(KNOWN_VARIABLES) and len(NAMES) == 8
    care = load_settings({}).care
    assert (care.team_email, care.escalation_email, care.webhook_url, care.webhook_secret) == (
        "", "", "", "")
    assert care.clinic_hours == ALWAYS and care.deadlines == parse_deadlines(DEFAULT_DEADLINES)
    assert (care.silence_evenings, care.sweep_seconds, care.escalates) == (4, 30.0, False)


def test_good_values_are_read() -> None:
    care = load_settings({
        "CARE_TEAM_EMAIL": " team@clinic.example ", "CARE_TEAM_ESCALATION_EMAIL": "n@c.example",
        "CARE_TEAM_WEBHOOK_URL": URL + "/", "CARE_TEAM_WEBHOOK_SECRET": SECRET,
        "CLINIC_HOURS": "mon-fri 08:00-17:00 America/Chicago", "REVIEW_DEADLINES": "urgent=2h",
        "SILENCE_EVENINGS": "6", "CARE_SWEEP_SECONDS": "0.5"}).care
    assert (care.team_email, care.escalation_email, care.webhook_url) == (
        "team@clinic.example", "n@c.example", URL)
    assert care.webhook_secret == SECRET and SECRET not in repr(care)
    assert care.clinic_hours.days == frozenset(range(5)) and care.clinic_hours.zone == (
        "America/Chicago")
    assert care.deadlines["urgent"] == (2, "h") and care.deadlines["soon"] == (2, "d")
    assert (care.silence_evenings, care.sweep_seconds, care.escalates) == (6, 0.5, True)


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("CARE_TEAM_EMAIL", "care team", "must be an email address, got 'care team'"),
    ("CARE_TEAM_ESCALATION_EMAIL", "nurse@", "must be an email address"),
    ("CARE_TEAM_WEBHOOK_URL", "ftp://ehr.example", "must be an http(s) URL"),
    ("CARE_TEAM_WEBHOOK_SECRET", "short", "(16 characters or more) is required with "
                                          "CARE_TEAM_WEBHOOK_URL"),
    ("CLINIC_HOURS", "weekdays", "must look like"),
    ("REVIEW_DEADLINES", "urgent=soon", "want LEVEL=N(m|h|d)"),
    ("SILENCE_EVENINGS", "0", "must be between 1 and 60, got 0"),
    ("SILENCE_EVENINGS", "four", "must be a whole number, got 'four'"),
    ("CARE_SWEEP_SECONDS", "7200", "must be between 0.2 and 3600, got 7200"),
    ("CARE_SWEEP_SECONDS", "often", "must be a number, got 'often'"),
])
def test_a_bad_value_is_one_line_naming_the_variable(variable: str, value: str,
                                                      says: str) -> None:
    env = {variable: value}
    if variable == "CARE_TEAM_WEBHOOK_SECRET":
        env["CARE_TEAM_WEBHOOK_URL"] = URL
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    message = str(raised.value)
    assert message.startswith(variable) and says in message and "\n" not in message, message
    if variable == "CARE_TEAM_WEBHOOK_SECRET":
        assert value not in message  # a secret is never repeated back


def test_the_url_without_its_secret_is_refused_and_the_secret_alone_is_harmless() -> None:
    with pytest.raises(ConfigError, match="CARE_TEAM_WEBHOOK_SECRET"):
        load_settings({"CARE_TEAM_WEBHOOK_URL": URL})
    assert not load_settings({"CARE_TEAM_WEBHOOK_SECRET": SECRET}).care.escalates


def test_the_cli_exits_2_with_the_line(cli: Cli) -> None:
    result = Cli({**cli.env, "SILENCE_EVENINGS": "sixty"})("list")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "SILENCE_EVENINGS" in result.stderr, result.stderr
