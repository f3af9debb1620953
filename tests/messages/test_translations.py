"""Every language has every file, every reply and every content item the English has.

A translation sits beside its English file (environment.localised: sms/replies.txt.j2 ->
sms/replies.es.txt.j2). These tests fail when a template, a macro (a reply), a macro's
arguments, or a content id, kind, tag or field exists in one language and not in another, so a
new English reply without its Spanish twin (or a third language missing a file) is caught here.
templates/web/ is the staff-facing console and pages: English only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, nodes

from reminders.domain.subscriber import DEFAULT_LANGUAGE, LANGUAGES
from reminders.messages.environment import localised
from reminders.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
TRANSLATED = ("sms", "email", "content")
OTHERS = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined)


def _language_of(path: Path) -> str:
    parts = path.name.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LANGUAGES else DEFAULT_LANGUAGE


def _english_files() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATES)) for folder in TRANSLATED
                  for p in (TEMPLATES / folder).iterdir()
                  if p.is_file() and _language_of(p) == DEFAULT_LANGUAGE)


ENGLISH = _english_files()


def test_localised_names() -> None:
    assert localised("sms/replies.txt.j2", "es") == "sms/replies.es.txt.j2"
    assert localised("content/library.toml", "es") == "content/library.es.toml"
    assert localised("email/nightly.html.j2", "en") == "email/nightly.html.j2"


@pytest.mark.parametrize("language", OTHERS)
def test_every_file_exists_in_every_language(language: str) -> None:
    missing = [name for name in ENGLISH if not (TEMPLATES / localised(name, language)).is_file()]
    assert not missing, f"{language}: no translation of {missing}"
    orphans = []
    for folder in TRANSLATED:
        for path in (TEMPLATES / folder).iterdir():
            if _language_of(path) == language:
                english = str(path.relative_to(TEMPLATES)).replace(f".{language}.", ".", 1)
                if english not in ENGLISH:
                    orphans.append(str(path.relative_to(TEMPLATES)))
    assert not orphans, f"{language} files with no English original: {orphans}"


def _macros(name: str) -> dict[str, tuple[str, ...]]:
    """Each macro of a template and its argument names (from the parsed template)."""
    source = ENV.loader.get_source(ENV, name)[0]  # type: ignore[union-attr]
    tree = ENV.parse(source)
    return {m.name: tuple(a.name for a in m.args) for m in tree.find_all(nodes.Macro)}


@pytest.mark.parametrize("language", OTHERS)
@pytest.mark.parametrize("name", [n for n in ENGLISH if n.endswith(".j2")])
def test_every_macro_exists_in_every_language_with_the_same_arguments(
        language: str, name: str) -> None:
    english, other = _macros(name), _macros(localised(name, language))
    assert english == other, (
        f"{name}: only in English {sorted(set(english) - set(other))}, only in {language} "
        f"{sorted(set(other) - set(english))}, different arguments "
        f"{sorted(k for k in set(english) & set(other) if english[k] != other[k])}")


def _library(language: str) -> dict[str, dict[str, dict[str, object]]]:
    raw = tomllib.loads((TEMPLATES / localised("content/library.toml", language))
                        .read_text(encoding="utf-8"))
    return {section: {entry["id"]: entry for entry in raw.get(section, [])}
            for section in ("check", "routine", "tip", "safety")}


@pytest.mark.parametrize("language", OTHERS)
def test_the_content_library_has_the_same_ids_kinds_and_tags(language: str) -> None:
    english, other = _library(DEFAULT_LANGUAGE), _library(language)
    for section in english:
        assert set(english[section]) == set(other[section]), (
            section, set(english[section]) ^ set(other[section]))
        for item_id, entry in english[section].items():
            translated = other[section][item_id]
            assert translated["tags"] == entry["tags"], item_id  # move: tags included
            assert set(translated) == set(entry), item_id
            for field in ("text", "short", "why"):
                assert str(translated[field]).strip(), (item_id, field)
                assert translated[field] != entry[field], (item_id, field, "not translated")
