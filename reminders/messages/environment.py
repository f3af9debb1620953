"""The one Jinja2 environment every message is rendered with (StrictUndefined: a missing
variable is an error, not an empty string; autoescape for HTML templates only), and where each
language's files live.

Languages: a translation sits beside its English file with the language before the first
extension (sms/replies.txt.j2 -> sms/replies.es.txt.j2, content/library.toml ->
content/library.es.toml); English is the file without one. A third language is a matter of
adding those files and its code to subscriber.LANGUAGES (docs/languages.md).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reminders.domain.subscriber import DEFAULT_LANGUAGE


@lru_cache(maxsize=4)
def environment(templates_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(templates_dir)),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        keep_trailing_newline=False,
        trim_blocks=True,  # block tags on their own line leave no blank line behind
    )


def localised(name: str, language: str) -> str:
    """The file of `name` (a path under templates/) in `language`:
    localised("sms/replies.txt.j2", "es") == "sms/replies.es.txt.j2"."""
    if language == DEFAULT_LANGUAGE:
        return name
    folder, slash, base = name.rpartition("/")
    stem, dot, extensions = base.partition(".")
    return f"{folder}{slash}{stem}.{language}{dot}{extensions}"
