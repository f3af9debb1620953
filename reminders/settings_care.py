"""The care-team loop's settings (read with the others by settings.load_settings): pydantic-
settings, one declaration per variable (its type, default, range or check), as settings.py.

Where review items are escalated (CARE_TEAM_EMAIL, CARE_TEAM_ESCALATION_EMAIL, a signed
webhook), the acknowledgement deadlines by level (REVIEW_DEADLINES) and when they run
(CLINIC_HOURS), and how many silent evenings bring a check-in (SILENCE_EVENINGS). A mistake
fails at start with one line naming the variable (ConfigError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from reminders.domain.deadlines import (
    ALWAYS,
    DEFAULT_DEADLINES,
    ClinicHours,
    DeadlineError,
    parse_clinic_hours,
    parse_deadlines,
)
from reminders.settings_fields import AsGiven, Checked, GivenSettings, alias_of, one_line, var
from reminders.settings_fields import check as checked_by
from reminders.settings_parse import ConfigError, _email_address, _url

# The receiver checks the webhook's signature: a short secret is guessable.
WEBHOOK_SECRET_MIN = 16


def check(parse: Checked) -> Any:
    return checked_by(parse, lambda field: alias_of(CareSettings, field))


def deadline_rule(parse: Callable[[str], Any]) -> Checked:
    """A domain/deadlines.py reader as a check: its reason, the variable and the value."""
    def read(name: str, raw: str) -> Any:
        try:
            return parse(raw)
        except DeadlineError as exc:
            raise ConfigError(f"{name} {exc}, got {raw!r}") from None
    return read


class CareSettings(GivenSettings):
    """Every variable of the care-team loop: its type, its default, its check."""

    team_email: Annotated[str, var("CARE_TEAM_EMAIL"), check(_email_address)] = ""
    escalation_email: Annotated[str, var("CARE_TEAM_ESCALATION_EMAIL"),
                                check(_email_address)] = ""
    webhook_url: Annotated[str, var("CARE_TEAM_WEBHOOK_URL"), check(_url)] = ""
    webhook_secret: Annotated[AsGiven, var("CARE_TEAM_WEBHOOK_SECRET", secret=True)] = ""
    clinic_hours: Annotated[ClinicHours, var("CLINIC_HOURS"),
                            check(deadline_rule(parse_clinic_hours))] = ALWAYS
    deadlines: Annotated[dict[str, tuple[int, str]], var("REVIEW_DEADLINES"),
                         check(deadline_rule(parse_deadlines))] = Field(
        default_factory=lambda: parse_deadlines(DEFAULT_DEADLINES), alias="REVIEW_DEADLINES")
    silence_evenings: Annotated[int, var("SILENCE_EVENINGS", 1, 60)] = 4
    # How often beat looks for deadlines that passed (escalations are at most this late).
    sweep_seconds: Annotated[float, var("CARE_SWEEP_SECONDS", 0.2, 3600)] = 30.0

    @model_validator(mode="after")
    def _signed(self) -> CareSettings:
        if self.webhook_url and len(self.webhook_secret) < WEBHOOK_SECRET_MIN:
            raise ConfigError(f"CARE_TEAM_WEBHOOK_SECRET ({WEBHOOK_SECRET_MIN} characters or "
                              "more) is required with CARE_TEAM_WEBHOOK_URL: the receiver "
                              "checks the signature")
        return self

    @property
    def escalates(self) -> bool:
        return bool(self.team_email or self.webhook_url or self.escalation_email)


# Its variables, for settings.KNOWN_VARIABLES (and the README's table).
NAMES = tuple(str(info.alias) for info in CareSettings.model_fields.values())


def load(env: Mapping[str, str]) -> CareSettings:
    """The care settings from the variables load_settings read (ConfigError: one line)."""
    try:
        given = {name: env[name] for name in NAMES if name in env}
        return CareSettings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise one_line(exc, CareSettings) from None
