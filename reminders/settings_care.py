"""The care-team loop's settings (read with the others by settings.load_settings).

Where review items are escalated (CARE_TEAM_EMAIL, CARE_TEAM_ESCALATION_EMAIL, a signed
webhook), the acknowledgement deadlines by level (REVIEW_DEADLINES) and when they run
(CLINIC_HOURS), and how many silent evenings bring a check-in (SILENCE_EVENINGS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reminders.domain.deadlines import (
    ALWAYS,
    DEFAULT_DEADLINES,
    ClinicHours,
    DeadlineError,
    parse_clinic_hours,
    parse_deadlines,
)
from reminders.settings_parse import ConfigError, _email_address, _float, _int, _url

NAMES = ("CARE_TEAM_EMAIL", "CARE_TEAM_ESCALATION_EMAIL", "CARE_TEAM_WEBHOOK_URL",
         "CARE_TEAM_WEBHOOK_SECRET", "CLINIC_HOURS", "REVIEW_DEADLINES", "SILENCE_EVENINGS",
         "CARE_SWEEP_SECONDS")


@dataclass(frozen=True)
class CareSettings:
    team_email: str = ""
    escalation_email: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    clinic_hours: ClinicHours = ALWAYS
    deadlines: dict[str, tuple[int, str]] = field(
        default_factory=lambda: parse_deadlines(DEFAULT_DEADLINES))
    silence_evenings: int = 4
    # How often beat looks for deadlines that passed (escalations are at most this late).
    sweep_seconds: float = 30.0

    @property
    def escalates(self) -> bool:
        return bool(self.team_email or self.webhook_url or self.escalation_email)


def load(env: Mapping[str, str]) -> CareSettings:
    values: dict[str, object] = {}
    for name, key in (("CARE_TEAM_EMAIL", "team_email"),
                      ("CARE_TEAM_ESCALATION_EMAIL", "escalation_email")):
        if name in env:
            values[key] = _email_address(name, env[name])
    if "CARE_TEAM_WEBHOOK_URL" in env:
        values["webhook_url"] = _url("CARE_TEAM_WEBHOOK_URL", env["CARE_TEAM_WEBHOOK_URL"])
        if len(env.get("CARE_TEAM_WEBHOOK_SECRET", "")) < 16:
            raise ConfigError("CARE_TEAM_WEBHOOK_SECRET (16 characters or more) is required "
                              "with CARE_TEAM_WEBHOOK_URL: the receiver checks the signature")
        values["webhook_secret"] = env["CARE_TEAM_WEBHOOK_SECRET"]
    for name, key, parse in (("CLINIC_HOURS", "clinic_hours", parse_clinic_hours),
                             ("REVIEW_DEADLINES", "deadlines", parse_deadlines)):
        if name in env:
            try:
                values[key] = parse(env[name])
            except DeadlineError as exc:
                raise ConfigError(f"{name} {exc}, got {env[name]!r}") from None
    if "SILENCE_EVENINGS" in env:
        values["silence_evenings"] = _int("SILENCE_EVENINGS", env["SILENCE_EVENINGS"], 1, 60)
    if "CARE_SWEEP_SECONDS" in env:
        values["sweep_seconds"] = _float("CARE_SWEEP_SECONDS", env["CARE_SWEEP_SECONDS"],
                                         0.2, 3600)
    return CareSettings(**values)  # type: ignore[arg-type]
