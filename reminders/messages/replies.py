"""Reply texts, rendered from the macros in templates/sms/replies.txt.j2 and made GSM-7, and
the other one-off texts (the double opt-in request) from their own templates."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from reminders.domain.gsm import to_gsm7
from reminders.messages.environment import environment


class Replies:
    def __init__(self, templates_dir: Path) -> None:
        self._env = environment(templates_dir)
        self._module = self._env.get_template("sms/replies.txt.j2").module

    def render(self, name: str, **context: Any) -> str:
        macro = getattr(self._module, name)
        return to_gsm7(" ".join(str(macro(**context)).split()))

    def version(self, name: str) -> str:
        """The wording of reply `name` as sent, for the consent log: "sms/replies.txt.j2#name@"
        and a digest of that macro's source (it changes when, and only when, its words do)."""
        source = self._env.loader.get_source(self._env, "sms/replies.txt.j2")[0]  # type: ignore[union-attr]
        match = re.search(r"{%\s*macro " + re.escape(name) + r"\(.*?endmacro", source, re.S)
        digest = hashlib.sha256((match.group(0) if match else source).encode()).hexdigest()[:10]
        return f"sms/replies.txt.j2#{name}@{digest}"

    def template_version(self, template: str) -> str:
        """The wording of a whole template of templates/sms/ (`confirm`), as version()."""
        name = f"sms/{template}.txt.j2"
        source = self._env.loader.get_source(self._env, name)[0]  # type: ignore[union-attr]
        return f"{name}@{hashlib.sha256(source.encode()).hexdigest()[:10]}"

    def text(self, template: str, **context: Any) -> str:
        """A whole template of templates/sms/ (`confirm` -> sms/confirm.txt.j2), one line."""
        body = self._env.get_template(f"sms/{template}.txt.j2").render(**context)
        return to_gsm7(" ".join(body.split()))
