"""The pieces every settings table is declared with (settings.py, settings_care.py): a field's
variable and range (`var`), the text conversions, a settings_parse.py check as a validator
(`check`), pydantic's first error as our one line naming the variable (`one_line`), and the
base both tables share (`GivenSettings`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, get_args

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from reminders.settings_parse import ConfigError

Text = Annotated[str, BeforeValidator(lambda raw: str(raw).strip())]
AsGiven = str  # secrets and passwords: spaces may be part of them
Lower = BeforeValidator(lambda raw: str(raw).strip().lower())
Checked = Callable[[str, str], Any]


def var(name: str, low: float | None = None, high: float | None = None,
        secret: bool = False) -> Any:
    """A field's variable (its alias), its range, and whether repr() may show it."""
    return Field(alias=name, ge=low, le=high, repr=not secret)


def check(parse: Checked, name_of: Callable[[str], str]) -> BeforeValidator:
    """One of settings_parse.py's checks (URLs, zones, clock times...) as a validator: it is
    given the variable's name (`name_of` the field's) for its one-line message."""
    return BeforeValidator(lambda raw, info: parse(name_of(info.field_name or "?"), str(raw)))


def alias_of(model: type[BaseSettings], field_name: str) -> str:
    """The variable that sets `field_name` of `model` (the field's own name if none)."""
    info = model.model_fields.get(field_name)
    return str(info.alias) if info is not None and info.alias else field_name


def one_line(exc: ValidationError, model: type[BaseSettings]) -> ConfigError:
    """pydantic's first error as our one line naming the variable (never its value when it
    could be a secret: the checks print URLs with their password masked)."""
    error = exc.errors(include_url=False)[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    name = alias_of(model, name)
    raw = error.get("input")
    kind = error["type"]
    if kind == "value_error":
        cause = error.get("ctx", {}).get("error")
        return cause if isinstance(cause, ConfigError) else ConfigError(f"{name}: {cause}")
    info = next((info for info in model.model_fields.values() if info.alias == name), None)
    if kind in ("greater_than_equal", "less_than_equal") and info is not None:
        low = next(m.ge for m in info.metadata if hasattr(m, "ge"))
        high = next(m.le for m in info.metadata if hasattr(m, "le"))
        return ConfigError(f"{name} must be between {low} and {high}, got {raw}")
    what = {"int_parsing": "a whole number", "int_from_float": "a whole number",
            "float_parsing": "a number", "bool_parsing": "true or false"}.get(kind)
    if what is None and kind == "literal_error" and info is not None:
        what = "one of " + ", ".join(get_args(info.annotation))
    return ConfigError(f"{name} must be {what or 'valid'}, got {raw!r}")


class GivenSettings(BaseSettings):
    """A table read only from the mapping it is given (load_settings hands over the environment
    it read: os.environ, .env, the file `make run` writes, or a test's mapping): nothing is read
    behind its back. Defaults are what they say (not checked)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True,
                                      validate_default=False)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
