"""The one Jinja2 environment every message is rendered with (StrictUndefined: a missing
variable is an error, not an empty string; autoescape for HTML templates only)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined


@lru_cache(maxsize=4)
def environment(templates_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(templates_dir)),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        keep_trailing_newline=False,
        trim_blocks=True,  # block tags on their own line leave no blank line behind
    )
