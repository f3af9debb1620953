"""Reply texts, rendered from the macros in templates/sms/replies.txt.j2 and made GSM-7."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reminders.domain.gsm import to_gsm7


class Replies:
    def __init__(self, templates_dir: Path) -> None:
        env = Environment(loader=FileSystemLoader(str(templates_dir)), undefined=StrictUndefined,
                          autoescape=False)
        self._module = env.get_template("sms/replies.txt.j2").module

    def render(self, name: str, **context: Any) -> str:
        macro = getattr(self._module, name)
        return to_gsm7(" ".join(str(macro(**context)).split()))
