"""Spanish texts and what they do: a table of what people write, the command it is read as
(kind, argument, reply language), and on a real Redis, the effect (reply, flag, consent).

Kinds: stop help start join done time tz pause resume score email massage heat weekly care
language flag distress unknown; a flag row names its category.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.keywords import parse
from reminders.domain.subscriber import Subscriber
from reminders.wiring import Services

PHONE = "+13125550142"
NOW = datetime(2027, 3, 10, 2, 30, tzinfo=UTC)  # 20:30 in Chicago, the evening of March 9

# (text, kind, arg): the language is "es" for every row but ENGLISH / INGLES ("en").
ROWS: list[tuple[str, str, str]] = [
    # -- stop, in every form people use ------------------------------------------------------
    ("ALTO", "stop", ""), ("alto", "stop", ""), ("Alto!", "stop", ""),
    ("PARAR", "stop", ""), ("CANCELAR", "stop", ""), ("BAJA", "stop", ""),
    ("baja por favor", "stop", ""), ("alto, gracias", "stop", ""),
    ("ya no quiero mensajes", "stop", ""), ("Ya no quiero mensajes.", "stop", ""),
    ("no quiero más mensajes", "stop", ""), ("no me envíen más mensajes", "stop", ""),
    ("dejen de enviarme mensajes", "stop", ""), ("quiero darme de baja", "stop", ""),
    ("sáquenme de la lista", "stop", ""), ("por favor ya no quiero recibir mensajes", "stop", ""),
    # -- help, join, yes -----------------------------------------------------------------------
    ("AYUDA", "help", ""), ("ayuda por favor", "help", ""), ("UNIRME", "join", ""),
    ("INICIO", "join", ""), ("empezar", "join", ""), ("SI", "start", ""), ("Sí", "start", ""),
    # -- commands ------------------------------------------------------------------------------
    ("LISTO", "done", ""), ("listo por hoy", "done", ""), ("Ya lo hice", "done", ""),
    ("hecho", "done", ""), ("terminé", "done", ""), ("ya terminé por hoy", "done", ""),
    ("HORA 9pm", "time", "9pm"), ("hora 21:15", "time", "21:15"),
    ("cambiar hora 8:30pm", "time", "8:30pm"), ("ZONA Chicago", "tz", "chicago"),
    ("zona horaria America/New_York", "tz", "america/new_york"), ("PAUSA", "pause", ""),
    ("PAUSA 3", "pause", "3"), ("pausa 7 días", "pause", "7"),
    ("pausar por 5 noches", "pause", "5"),
    ("SEGUIR", "resume", ""), ("continuar", "resume", ""), ("reanudar", "resume", ""),
    ("CORREO ana@example.org", "email", "ana@example.org"), ("correo no", "email", "no"),
    ("MASAJE NO", "massage", "off"), ("masaje si", "massage", "on"),
    ("sin masaje", "massage", "off"), ("CALOR SI", "heat", "on"), ("calor no", "heat", "off"),
    ("SEMANAL NO", "weekly", "off"), ("semanal sí", "weekly", "on"),
    ("CUIDADOR SI", "care", "on"), ("cuidador no", "care", "off"),
    ("ESPAÑOL", "language", "es"), ("espanol", "language", "es"), ("Español!", "language", "es"),
    ("ENGLISH", "language", "en"), ("inglés", "language", "en"),
    ("dolor 8", "score", "8"), ("7 de 10", "score", "7"), ("mi dolor es 9, me arde", "score", "9"),
    # -- foot problems -------------------------------------------------------------------------
    ("tengo una ampolla en el talón", "flag", "wound"), ("ampolla", "flag", "wound"),
    ("me salió una herida en el pie", "flag", "wound"),
    ("tengo un corte en el dedo", "flag", "wound"),
    ("una llaga en la planta que no sana", "flag", "wound"),
    ("el dedo está rojo", "flag", "redness"), ("tengo el pie enrojecido", "flag", "redness"),
    ("el tobillo está hinchado", "flag", "swelling"), ("pie inflamado", "flag", "swelling"),
    ("siento el pie caliente", "flag", "warmth"), ("sale pus del dedo", "flag", "infection"),
    ("mi pie tiene mal olor", "flag", "infection"), ("el dedo se puso negro", "flag", "gangrene"),
    ("tengo el dedo morado", "flag", "color"), ("me caí y me duele el pie", "flag", "injury"),
    ("entumecimiento nuevo en el pie izquierdo", "flag", "numbness"),
    ("no sé si es una ampolla", "flag", "wound"),
    # -- negations, things, not foot problems ----------------------------------------------------
    ("no tengo ampollas", "unknown", ""), ("sin heridas hoy", "unknown", ""),
    ("ya no está hinchado", "unknown", ""), ("la herida sanó", "unknown", ""),
    ("me corté las uñas", "unknown", ""), ("me puse calcetines negros", "unknown", ""),
    ("el agua caliente de la ducha", "unknown", ""), ("gracias", "unknown", ""),
    ("para mis pies", "unknown", ""),
    # -- distress ------------------------------------------------------------------------------
    ("me siento sin esperanza", "distress", ""), ("ya no puedo más", "distress", ""),
    ("quiero morir", "distress", ""), ("me quiero morir", "distress", ""),
    ("no quiero vivir", "distress", ""), ("estoy desesperada", "distress", ""),
]


def test_the_table_has_at_least_sixty_spanish_texts() -> None:
    assert len(ROWS) >= 60


@pytest.mark.parametrize(("text", "kind", "arg"), ROWS, ids=[r[0][:40] for r in ROWS])
def test_spanish_texts_are_read_as(text: str, kind: str, arg: str) -> None:
    command = parse(text)
    if kind in ("flag", "distress"):
        # What a text says about the body is the triage's, in any language the person has.
        from reminders.domain.triage import FLAG_LEVELS, Level, triage

        assert command.kind == "unknown", (text, command)
        found = triage(text, "es")
        if kind == "distress":
            assert found.level == Level.CRISIS, (text, found)
        else:
            assert found.level in FLAG_LEVELS and found.category == arg, (text, found)
        return
    assert command.kind == kind, (text, command)
    if kind not in ("unknown",):
        assert command.arg.lower() == arg, (text, command)
    english = kind == "language" and arg == "en"
    if kind not in ("unknown", "flag"):
        assert command.language == ("en" if english else "es"), (text, command)


@pytest.fixture
def persona(console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True,
        language="es"), NOW - timedelta(days=30))
    return console_services


# (text, what the Spanish reply says, what the record shows afterwards)
EFFECTS = [
    ("LISTO", "Muy bien", lambda s: s.streak == 1),
    ("HORA 9pm", "9:00pm", lambda s: s.send_time.hour == 21),
    ("hora 3am", "entre 4:00pm y 9:00pm", lambda s: s.send_time.hour == 20),
    ("ZONA Denver", "zona horaria America/Denver", lambda s: s.timezone == "America/Denver"),
    ("zona Narnia", "no conozco esa zona", lambda s: s.timezone == "America/Chicago"),
    ("PAUSA 3", "En pausa", lambda s: s.paused_until is not None),
    ("pausa 500", "del 1 al 90", lambda s: s.paused_until is None),
    ("SEGUIR", "tenerle de vuelta", lambda s: s.paused_until is None),
    ("MASAJE NO", "no más rutinas de masaje".replace("á", "a"), lambda s: not s.massage_ok),
    ("CALOR SI", "codo", lambda s: s.heat_ok),
    ("dolor 9, insoportable", "urgent care o a la sala de emergencias", lambda s: True),
    ("dolor 3", "anotamos 3/10", lambda s: True),
    ("correo esto-no", "no parece un correo", lambda s: s.email is None),
    ("ALTO", "no recibira mas mensajes", lambda s: s.sms_status == "opted_out"),
    ("ya no quiero mensajes", "no recibira mas mensajes", lambda s: s.sms_status == "opted_out"),
    ("no tengo ampollas", "qué bueno", lambda s: s.flag_until is None),
    ("tengo el pie hinchado", "sin masaje ni calor", lambda s: s.flag_until is not None),
    ("quiero morir", "988 (oprima 2 para español)", lambda s: s.sms_status == "active"),
    ("qué tal", "Esta linea es automatica. ¿Emergencia? Llame al 911",
     lambda s: s.sms_status == "active"),
]


@pytest.mark.parametrize(("text", "said", "state"), EFFECTS, ids=[e[0] for e in EFFECTS])
def test_what_a_spanish_text_does(persona: Services, text: str, said: str,
                                  state: Callable[[Subscriber], bool]) -> None:
    reply = persona.inbound(NOW).handle(PHONE, text) or ""
    assert said.lower() in reply.lower(), reply
    assert state(persona.store.require(PHONE)), text
