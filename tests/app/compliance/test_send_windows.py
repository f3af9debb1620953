"""Send windows: SEND_WINDOW (16:00-21:00) and STATE_WINDOWS (Florida and Oklahoma end at 20:00).

The area codes below are the reference (NANPA's lists for Florida and Oklahoma, 2026), written
here, not read from the code; a TIME outside is answered kindly with the range, in the person's
language; people already outside are only listed by `stats` and moved by `window-apply`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import redis

from reminders.app.compliance import outside_window
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.gsm import count_segments
from reminders.domain.windows import area_codes
from reminders.settings import ConfigError, load_settings
from reminders.storage import consent_log
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli, make_services

FLORIDA = ["239", "305", "321", "352", "386", "407", "561", "727", "754", "772", "786", "813",
           "850", "863", "904", "941", "954", "689", "656", "448"]
OKLAHOMA = ["405", "539", "580", "918", "572"]
CHICAGO = "+13125550142"
MIAMI = "+13055550142"
TULSA = "+19185550142"
AUSTIN = "+15125550142"
NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)


def person(svc: Services, phone: str, at: str = "19:00", language: str = "en") -> str:
    return enrol(svc.store, svc.settings, Enrolment(phone=phone, time=at, confirmed=True,
                                                    language=language), NOW).id


def test_florida_and_oklahoma_area_codes_come_from_the_geocoder() -> None:
    assert set(FLORIDA) <= area_codes("FL")
    assert set(OKLAHOMA) <= area_codes("OK")
    assert not area_codes("FL") & area_codes("OK")
    assert "312" not in area_codes("FL") | area_codes("OK")


@pytest.mark.parametrize("phone,text,reply_has,kept", [
    (CHICAGO, "TIME 9:30pm", ["4:00pm", "9:00pm", "Sorry"], "19:00"),
    (CHICAGO, "time 21:00", ["9:00pm"], "21:00"),
    (MIAMI, "TIME 8:30 pm", ["4:00pm", "8:00pm", "Sorry"], "19:00"),
    (TULSA, "time 20:15", ["8:00pm"], "19:00"),
    (MIAMI, "TIME 8pm", ["8:00pm"], "20:00"),
    (CHICAGO, "TIME 3pm", ["4:00pm", "9:00pm"], "19:00"),
])
def test_time_outside_the_window_is_answered_with_the_range_and_changes_nothing(
        console_services: Services, phone: str, text: str, reply_has: list[str],
        kept: str) -> None:
    sub_id = person(console_services, phone)
    reply = console_services.inbound(NOW).handle(phone, text) or ""
    for needed in reply_has:
        assert needed in reply, reply
    assert f"{console_services.store.get(sub_id).send_time:%H:%M}" == kept  # type: ignore


def test_spanish_gets_the_range_in_spanish(console_services: Services) -> None:
    sub_id = person(console_services, MIAMI, language="es")
    reply = console_services.inbound(NOW).handle(MIAMI, "HORA 9pm") or ""
    assert "Lo sentimos" in reply and "4:00pm" in reply and "8:00pm" in reply, reply
    assert f"{console_services.store.get(sub_id).send_time:%H:%M}" == "19:00"  # type: ignore


def test_the_window_follows_the_settings(base_env: dict[str, str]) -> None:
    svc = make_services({**base_env, "SEND_WINDOW": "17:30-20:30", "STATE_WINDOWS": "none"})
    sub_id = person(svc, MIAMI)
    assert "5:30pm" in (svc.inbound(NOW).handle(MIAMI, "TIME 5pm") or "")
    assert "8:15pm" in (svc.inbound(NOW).handle(MIAMI, "TIME 8:15pm") or "")  # FL: not narrowed
    assert f"{svc.store.get(sub_id).send_time:%H:%M}" == "20:15"  # type: ignore[union-attr]


@pytest.mark.parametrize("env,message", [
    ({"SEND_WINDOW": "21:00-16:00"}, "SEND_WINDOW"),
    ({"SEND_WINDOW": "evening"}, "SEND_WINDOW"),
    ({"STATE_WINDOWS": "Florida"}, "STATE_WINDOWS"),
    ({"STATE_WINDOWS": "ZZ=08:00-20:00"}, "STATE_WINDOWS"),
    ({"SEND_WINDOW": "16:00-19:00"}, "DEFAULT_SEND_TIME"),
])
def test_bad_windows_fail_at_start_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env, dotenv=False)


def test_a_default_time_outside_a_state_window_becomes_its_end(base_env: dict[str, str]) -> None:
    svc = make_services({**base_env, "DEFAULT_SEND_TIME": "20:45"})
    miami = enrol(svc.store, svc.settings, Enrolment(phone=MIAMI, confirmed=True), NOW)
    chicago = enrol(svc.store, svc.settings, Enrolment(phone=CHICAGO, confirmed=True), NOW)
    assert (f"{miami.send_time:%H:%M}", f"{chicago.send_time:%H:%M}") == ("20:00", "20:45")


def test_operators_get_the_same_window(cli: Cli) -> None:
    bad = cli("subscribe", MIAMI, "--time", "20:30", "--confirmed")
    assert bad.returncode == 2 and "16:00-20:00" in bad.stderr
    assert cli("subscribe", MIAMI, "--time", "19:30", "--confirmed").returncode == 0
    bad = cli("set", MIAMI, "time=20:30")
    assert bad.returncode == 2 and "outside the send window" in bad.stderr
    # A new Chicago number moves the person to the wider window: the time is checked after.
    assert cli("set", MIAMI, "time=20:30", f"phone={CHICAGO}").returncode == 0


def test_people_outside_are_listed_and_moved_only_by_window_apply(
        base_env: dict[str, str], redis_client: redis.Redis) -> None:
    wide = make_services({**base_env, "SEND_WINDOW": "16:00-23:00", "STATE_WINDOWS": "none"})
    late = person(wide, CHICAGO, "22:30")
    florida = person(wide, MIAMI, "20:30")
    fine = person(wide, TULSA, "19:45")
    cli = Cli(base_env)
    stats = json.loads(cli("stats", "--windows", "--json").stdout)
    rows = {row["phone"]: row for row in stats["outside_window"]}
    assert set(rows) == {CHICAGO, MIAMI}
    assert (rows[MIAMI]["window"], rows[MIAMI]["moves_to"]) == ("16:00-20:00", "20:00")
    assert "Outside the send window: +13125550142 at 22:30" in cli("stats", "--windows").stdout

    snapshot = {key: redis_client.dump(key) for key in redis_client.keys("fc:sub:*")}
    dry = cli("window-apply", "--dry-run")
    assert dry.returncode == 0 and "would move +13125550142: 22:30 -> 21:00" in dry.stdout
    assert {key: redis_client.dump(key) for key in redis_client.keys("fc:sub:*")} == snapshot

    done = cli("window-apply", "--json")
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 2
    svc = make_services(base_env)
    times = {sub_id: f"{svc.store.get(sub_id).send_time:%H:%M}"  # type: ignore[union-attr]
             for sub_id in (late, florida, fine)}
    assert times == {late: "21:00", florida: "20:00", fine: "19:45"}
    due = svc.store.next_due(late)
    assert due is not None and f"{due:%M}" == "00"  # rescheduled with the record
    moved = [e for e in consent_log.history(svc.redis, late) if e["action"] == "window_moved"]
    assert len(moved) == 1 and "22:30 -> 21:00" in moved[0]["words"]
    assert json.loads(cli("stats", "--windows", "--json").stdout)["outside_window"] == []
    assert json.loads(cli("window-apply", "--json").stdout) == []  # once is enough


def test_window_apply_texts_each_moved_person_once_and_only_with_active_consent(
        twilio_env: dict[str, str], twilio_cli: Cli, fake_twilio: FakeTwilio) -> None:
    wide = make_services({**twilio_env, "SEND_WINDOW": "16:00-23:00", "STATE_WINDOWS": "none"})
    late = person(wide, CHICAGO, "22:30")
    person(wide, MIAMI, "20:30", language="es")
    stopped = person(wide, TULSA, "21:30")
    wide.inbound(NOW).handle(TULSA, "STOP")
    pending = enrol(wide.store, wide.settings, Enrolment(phone=AUSTIN, time="22:00"), NOW).id
    fake_twilio.messages.clear()

    dry = twilio_cli("window-apply", "--dry-run")
    assert dry.returncode == 0 and "nothing changed or sent" in dry.stdout
    assert fake_twilio.messages == []

    # Told first, moved after: a run that died between the two (the text went, the move was
    # not saved) is finished by the next run without a second text.
    svc = make_services(twilio_env)
    [item] = [i for i in outside_window.outside(svc.store.all(), svc.settings.windows)
              if i.sub.id == late]
    assert svc.time_notices.send(item, datetime.now(UTC)) == "sent"
    assert f"{svc.store.get(late).send_time:%H:%M}" == "22:30"  # type: ignore[union-attr]

    done = twilio_cli("window-apply", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["phone"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {CHICAGO, MIAMI, AUSTIN}  # the opted-out person gets nothing at all
    assert rows[CHICAGO]["told"] and rows[MIAMI]["told"] and not rows[AUSTIN]["told"]
    texts = {m.to: [] for m in fake_twilio.messages}  # type: dict[str, list[str]]
    for message in fake_twilio.messages:
        texts[message.to].append(message.body)
    assert set(texts) == {CHICAGO, MIAMI}  # not the pending one, not the opted-out one
    [english] = texts[CHICAGO]
    assert english.startswith("Foot Care Reminders: your foot-care reminder time is now "
                              "9:00pm (it was 10:30pm).") and "STOP" in english
    [spanish] = texts[MIAMI]
    assert spanish.startswith("Foot Care Reminders: su mensaje para el cuidado de los pies "
                              "ahora llega a las 8:00pm (antes a las 8:30pm).")
    assert "ALTO" in spanish
    for body in (english, spanish):
        assert count_segments(body).encoding == "GSM-7" and count_segments(body).segments <= 2
    times = {sub_id: f"{svc.store.get(sub_id).send_time:%H:%M}"  # type: ignore[union-attr]
             for sub_id in (late, stopped, pending)}
    assert times == {late: "21:00", stopped: "21:30", pending: "21:00"}

    assert json.loads(twilio_cli("window-apply", "--json").stdout) == []
    assert len(fake_twilio.messages) == 2  # once per move
