"""The command line as operators use it: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from reminders.app.records.person_json import describe, describe_all
from reminders.settings import PROJECT_ROOT
from reminders.storage import nights
from reminders.wiring import Services
from tests.conftest import Cli

PHONE = "+13125550142"


def all_keys(client: redis.Redis) -> set[bytes]:
    return set(client.keys("*"))


@pytest.mark.parametrize("args,message", [
    (["not-a-phone"], "not a phone number"),
    (["+1 312 555 01"], "not a valid phone number"),
    ([PHONE, "--timezone", "Mars/Olympus_Mons"], "unknown time zone"),
    ([PHONE, "--time", "07:30"], "outside the send window"),
    ([PHONE, "--time", "23:01"], "outside the send window"),
    ([PHONE, "--time", "25:00"], "not a time"),
    ([PHONE, "--channel", "pigeon"], "unknown channel"),
    ([PHONE, "--channel", "email"], "needs an email address"),
    (["--email", "not-an-address"], "not an email address"),
    ([], "give a phone number, an email address, or both"),
    ([PHONE, "--name", "x" * 10_000], "name is longer than 80"),
])
def test_bad_subscribe_input_exits_2_with_one_line_and_stores_nothing(
    cli: Cli, redis_client: redis.Redis, args: list[str], message: str
) -> None:
    before = all_keys(redis_client)
    result = cli("subscribe", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert all_keys(redis_client) == before


def test_subscribe_show_and_list_follow_the_contract(cli: Cli) -> None:
    assert cli("subscribe", "(312) 555-0142", "--name", "Ana Lima", "--time", "8:15pm",
               "--confirmed").returncode == 0
    shown = json.loads(cli("show", PHONE, "--json").stdout)
    assert {k: shown[k] for k in ("phone", "name", "timezone", "time", "channel", "sms_status",
                                  "email_status", "heat_ok", "massage_ok", "streak")} == {
        "phone": PHONE, "name": "Ana Lima", "timezone": "America/Chicago", "time": "20:15",
        "channel": "sms", "sms_status": "active", "email_status": "none", "heat_ok": False,
        "massage_ok": True, "streak": 0}
    assert shown["next_send_utc"].endswith(":15:00Z")
    assert shown["last_delivery"] is None and shown["paused_until"] is None
    listed = json.loads(cli("list", "--json").stdout)
    assert [row["phone"] for row in listed] == [PHONE]


def test_unconfirmed_subscriber_is_asked_for_yes_and_not_scheduled(cli: Cli) -> None:
    result = cli("subscribe", PHONE)
    assert result.returncode == 0
    assert "reply YES" in result.stdout  # the console backend prints the confirmation text
    shown = json.loads(cli("show", PHONE, "--json").stdout)
    assert shown["sms_status"] == "pending" and shown["next_send_utc"] is None


def test_duplicate_subscribe_is_refused(cli: Cli) -> None:
    assert cli("subscribe", PHONE, "--confirmed").returncode == 0
    again = cli("subscribe", "312-555-0142", "--confirmed", "--time", "18:00")
    assert again.returncode == 2 and "already subscribed" in again.stderr
    assert json.loads(cli("show", PHONE, "--json").stdout)["time"] == "20:00"


def test_set_changes_preferences_and_bad_values_change_nothing(cli: Cli) -> None:
    assert cli("subscribe", PHONE, "--confirmed").returncode == 0
    ok = cli("set", PHONE, "time=20:30", "timezone=Denver", "heat_ok=yes")
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(cli("show", PHONE, "--json").stdout)
    assert (shown["time"], shown["timezone"], shown["heat_ok"]) == ("20:30", "America/Denver",
                                                                    True)
    assert shown["next_send_utc"].endswith("T03:30:00Z")
    # One bad assignment among good ones: nothing at all changes.
    bad = cli("set", PHONE, "time=20:00", "timezone=Nowhere/Land")
    assert bad.returncode == 2 and "unknown time zone" in bad.stderr
    assert json.loads(cli("show", PHONE, "--json").stdout) == shown
    for args in (["colour=blue"], ["time"], ["channel=both"], ["paused_until=soon"]):
        result = cli("set", PHONE, *args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, args


def test_preview_json_shape_and_items_appear_in_the_sms(cli: Cli) -> None:
    assert cli("subscribe", PHONE, "--name", "Zoë", "--confirmed").returncode == 0
    preview = json.loads(cli("preview", PHONE, "--date", "2027-02-14", "--json").stdout)
    assert set(preview) == {"date", "sms", "email", "items"}
    assert preview["date"] == "2027-02-14"
    assert set(preview["sms"]) == {"body", "segments", "encoding"}
    assert preview["sms"]["encoding"] == "GSM-7" and preview["sms"]["segments"] <= 2
    assert set(preview["email"]) == {"subject", "text", "html"}
    # The tip is in the text only on evenings it fits beside every instruction of the others.
    assert [i["kind"] for i in preview["items"]] in (["check", "routine", "tip", "safety"],
                                                    ["check", "routine", "safety"])
    for item in preview["items"]:
        assert set(item) == {"id", "kind", "tags", "text"}
        assert item["text"] in preview["sms"]["body"]
    again = json.loads(cli("preview", PHONE, "--date", "2027-02-14", "--json").stdout)
    assert again == preview


def test_schedule_json_lists_local_and_utc_instants(cli: Cli) -> None:
    assert cli("subscribe", PHONE, "--timezone", "America/New_York", "--time", "20:00",
               "--confirmed").returncode == 0
    rows = json.loads(cli("schedule", PHONE, "--from", "2027-03-12T12:00:00Z", "--days", "3",
                          "--json").stdout)
    assert rows == [
        {"utc": "2027-03-13T01:00:00Z", "local": "2027-03-12T20:00:00-05:00"},
        {"utc": "2027-03-14T01:00:00Z", "local": "2027-03-13T20:00:00-05:00"},
        {"utc": "2027-03-15T00:00:00Z", "local": "2027-03-14T20:00:00-04:00"},
    ]


def test_unknown_subscriber_and_bad_arguments_exit_2(cli: Cli) -> None:
    for args in (["show", PHONE], ["preview", PHONE, "--date", "tomorrow"],
                 ["schedule", PHONE, "--days", "x"], ["frobnicate"], ["send-now", "nobody"]):
        result = cli(*args)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_send_now_sends_once_per_local_date(cli: Cli) -> None:
    assert cli("subscribe", PHONE, "--confirmed").returncode == 0
    first = cli("send-now", PHONE)
    assert first.returncode == 0 and "sms: sent" in first.stdout
    assert "STOP to end." in first.stdout  # the console backend printed the text
    second = cli("send-now", PHONE)
    assert "sms: already sent" in second.stdout
    assert json.loads(cli("show", PHONE, "--json").stdout)["last_delivery"]["status"] == "sent"


def test_forget_erases_the_subscriber_but_keeps_an_opt_out(cli: Cli, redis_client: redis.Redis
                                                           ) -> None:
    assert cli("subscribe", PHONE, "--confirmed").returncode == 0
    assert cli("forget", PHONE).returncode == 0
    assert cli("show", PHONE).returncode == 2
    leftover = {k for k in redis_client.keys("*") if b"consent" not in k}
    assert leftover == set()
    assert cli("subscribe", PHONE, "--confirmed").returncode == 0


def test_bad_configuration_fails_with_one_line_naming_the_variable(cli: Cli) -> None:
    for variable, value in (("LATE_LIMIT_MINUTES", "soon"), ("SMS_BACKEND", "carrier-pigeon"),
                            ("DEFAULT_TIMEZONE", "Mars/Base"), ("REDIS_URL", "http://x"),
                            ("SMTP_CA_FILE", "/nonexistent/ca.pem"),
                            ("SMTP_CA_FILE", str(PROJECT_ROOT / "README.md"))):  # not a cert
        broken = Cli({**cli.env, variable: value})
        result = broken("list")
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and variable in result.stderr, result.stderr
    twilio_without_sender = Cli({**cli.env, "SMS_BACKEND": "twilio",
                                 "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"})
    result = twilio_without_sender("list")
    assert result.returncode == 2 and "TWILIO_FROM_NUMBER" in result.stderr


def test_list_json_is_show_json_for_everyone(cli: Cli, console_services: Services) -> None:
    """list loads people a page at a time; each row must still be exactly what show prints."""
    svc = console_services
    phones = [f"+1312555{n:04d}" for n in range(1200, 1207)]
    for phone in phones:
        assert cli("subscribe", phone, "--timezone", "America/Chicago", "--time", "20:00",
                   "--confirmed").returncode == 0
    assert cli("subscribe", "+13125551299", "--email", "x@example.org", "--channel", "both",
               "--timezone", "Asia/Tokyo", "--time", "20:30").returncode == 0
    today = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")).date()
    subs = {phone: svc.store.require(phone) for phone in phones}
    nights.finish(svc.redis, subs[phones[0]].id, today - timedelta(days=3), "sms", "sent",
                  message_index="SM1", id="SM1", status="delivered")
    nights.finish(svc.redis, subs[phones[0]].id, today - timedelta(days=1), "sms", "failed",
                  error="30006")
    nights.finish(svc.redis, subs[phones[1]].id, today - timedelta(days=40), "sms", "skipped",
                  reason="paused")
    nights.release_for_retry(svc.redis, subs[phones[2]].id, today, "sms", "timeout")

    listed = json.loads(cli("list", "--json").stdout)
    shown = [json.loads(cli("show", row["phone"] or row["email"], "--json").stdout)
             for row in listed]
    assert listed == shown
    assert len(listed) == 8
    by_phone = {row["phone"]: row for row in listed}
    assert by_phone[phones[0]]["last_delivery"] == {
        "date": (today - timedelta(days=1)).isoformat(), "channel": "sms", "status": "failed",
        "error_code": "30006"}
    assert by_phone[phones[1]]["last_delivery"]["status"] == "skipped"
    assert by_phone[phones[2]]["last_delivery"] is None  # a retry is not a delivery yet


def test_describe_all_in_small_batches_matches_describe(cli: Cli, console_services: Services
                                                        ) -> None:
    svc = console_services
    for n in range(7):
        assert cli("subscribe", f"+1312555{1300 + n:04d}", "--confirmed").returncode == 0
    subs = sorted(svc.store.all(batch=2), key=lambda s: s.id)
    assert len(subs) == 7
    now = datetime.now(UTC)
    nights.finish(svc.redis, subs[4].id, now.date() - timedelta(days=2), "sms", "missed",
                  reason="late")
    assert list(describe_all(svc.store, subs, now, batch=3)) == \
        [describe(svc.store, sub, now) for sub in subs]
