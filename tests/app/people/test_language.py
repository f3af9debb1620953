"""A person's language (en | es): how it is chosen (subscribe --language, the import column,
`set language=`, the texts ESPAÑOL / ENGLISH), stored (one compact field, absent for English),
shown (`show --json`), and that a Spanish keyword from an unknown number is answered in Spanish.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import keys
from reminders.storage.subscriber_codec import from_hash, to_hash
from reminders.wiring import Services
from tests.conftest import Cli

PHONE = "+13125550142"
OTHER = "+13125550143"
NOW = datetime(2027, 3, 10, 2, 30, tzinfo=UTC)  # 20:30 in Chicago, the evening of March 9


@pytest.fixture
def person(console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True),
        NOW - timedelta(days=30))
    return console_services


def test_english_is_the_default_and_is_not_stored(person: Services) -> None:
    sub = person.store.require(PHONE)
    assert sub.language == "en"
    assert "l" not in to_hash(sub)
    spanish = sub.with_changes(language="es")
    assert to_hash(spanish)["l"] == "es"
    assert from_hash(to_hash(spanish), sub.id).language == "es"
    with pytest.raises(ValueError):
        from_hash({**to_hash(sub), "l": "xx"}, sub.id)  # a damaged record, not a guess


def test_subscribe_set_and_show_json(cli: Cli) -> None:
    made = cli("subscribe", PHONE, "--timezone", "America/Chicago", "--confirmed",
               "--language", "es")
    assert made.returncode == 0, made.stderr
    assert json.loads(cli("show", PHONE, "--json").stdout)["language"] == "es"
    assert cli("set", PHONE, "language=en").returncode == 0
    assert json.loads(cli("show", PHONE, "--json").stdout)["language"] == "en"
    assert cli("set", PHONE, "language=Español").returncode == 0
    assert json.loads(cli("show", PHONE, "--json").stdout)["language"] == "es"
    bad = cli("set", PHONE, "language=fr")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "language" in bad.stderr and "Traceback" not in bad.stderr
    assert json.loads(cli("show", PHONE, "--json").stdout)["language"] == "es"
    refused = cli("subscribe", OTHER, "--language", "klingon", "--confirmed")
    assert refused.returncode == 2 and "language" in refused.stderr
    assert cli("show", OTHER).returncode == 2  # nothing half-written


def test_import_column(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "people.csv"
    csv.write_text("phone,timezone,confirmed,language\n"
                   f"{PHONE},America/Chicago,yes,es\n{OTHER},America/Chicago,yes,\n")
    done = cli("import", str(csv))
    assert done.returncode == 0, done.stderr
    assert json.loads(cli("show", PHONE, "--json").stdout)["language"] == "es"
    assert json.loads(cli("show", OTHER, "--json").stdout)["language"] == "en"


def test_espanol_and_english_texts_switch_and_are_audit_logged(person: Services) -> None:
    reply = person.inbound(NOW).handle(PHONE, "ESPAÑOL") or ""
    assert "español" in reply.lower() or "espanol" in reply.lower(), reply
    assert person.store.require(PHONE).language == "es"
    assert "Muy bien" in (person.inbound(NOW).handle(PHONE, "LISTO") or "")
    assert "Listo" in (person.inbound(NOW).handle(PHONE, "TIME 9pm") or "")  # Spanish for her
    reply = person.inbound(NOW).handle(PHONE, "english") or ""
    assert "English" in reply and person.store.require(PHONE).language == "en"
    assert "Well done" in (person.inbound(NOW).handle(PHONE, "DONE") or "")
    person.inbound(NOW).handle(PHONE, "espanol")  # no tilde: the same command
    assert person.store.require(PHONE).language == "es"
    history = person.store.consent_history(person.store.require(PHONE).id)
    actions = [event["action"] for event in history]
    assert actions.count("language_es") == 2 and actions.count("language_en") == 1
    assert any(event["words"] == "ESPAÑOL" for event in history)


@pytest.mark.parametrize(("text", "expected"), [
    ("AYUDA", "Pueden aplicarse tarifas de mensajes y datos"),
    ("ALTO", "no recibirá más mensajes".replace("á", "a")),
    ("UNIRME", "su inscripcion esta lista"),
    ("INICIO", "su inscripcion esta lista"),
    ("ESPAÑOL", "numero no esta inscrito"),
    ("LISTO", "numero no esta inscrito"),
])
def test_an_unknown_number_is_answered_in_spanish(console_services: Services, text: str,
                                                   expected: str) -> None:
    reply = console_services.inbound(NOW).handle(OTHER, text) or ""
    assert expected in reply, reply
    sub = console_services.store.find(OTHER)
    if text in ("UNIRME", "INICIO"):
        assert sub is not None and sub.language == "es" and sub.sms_status == "active"
        assert console_services.redis.exists(keys.subscriber(sub.id))


def test_a_spanish_persons_confirmation_request_is_in_spanish(person: Services) -> None:
    sub = enrol(person.store, person.settings, Enrolment(
        phone=OTHER, timezone="America/Chicago", time="20:00", language="es"), NOW)
    body = person.replies.in_language(sub.language).text("confirm", program_name="X",
                                                          time="8:00 PM")
    assert body.startswith("X: responda SI"), body


def test_help_says_how_to_add_a_language(cli: Cli) -> None:
    shown = cli("--help")
    assert shown.returncode == 0
    assert "To add a language" in shown.stdout and "LANGUAGES" in shown.stdout


def test_a_spanish_persons_confirmation_email_is_in_spanish(person: Services) -> None:
    sub = enrol(person.store, person.settings, Enrolment(
        email="ana@example.org", timezone="America/Chicago", time="20:00", language="es"), NOW)
    message = person.composer.confirmation(sub, NOW)
    assert str(message["Subject"]).startswith("Confirme sus correos")
    text = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert text is not None and markup is not None
    assert "Para confirmar, abra este enlace" in str(text.get_content())
    assert 'lang="es"' in str(markup.get_content()) and "Confirmar mis correos" in str(
        markup.get_content())


def test_a_bad_language_in_an_import_row_is_reported_and_the_rest_imported(
        cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "people.csv"
    csv.write_text("phone,timezone,confirmed,language\n"
                   f"{PHONE},America/Chicago,yes,klingon\n{OTHER},America/Chicago,yes,es\n")
    done = cli("import", str(csv))
    assert "line 2" in done.stdout + done.stderr and "language" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert cli("show", PHONE).returncode == 2
    assert json.loads(cli("show", OTHER, "--json").stdout)["language"] == "es"
