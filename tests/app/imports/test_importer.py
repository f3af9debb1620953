"""`reminders import FILE.csv`: per-line report (line, the name given, why), idempotent re-runs,
whole-file errors exit 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from reminders.app.people import email_consent
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli

HEADER = "phone,email,name,timezone,time,channel,confirmed"
LONG = "1" * 10_000
# A reason quotes the bad value, cut to 160 characters.
TOO_LONG_PHONE = f"not a phone number: '{LONG}"[:159] + "…"

# (line in the file, CSV text) -- line 1 is the header, line 4 is blank.
MIXED_ROWS = [
    (2, "(312) 555-0142,,Ana Lima 🦶,,20:15,,yes"),
    (3, "555,,Bad Phone,,,,"),
    (5, "+13125550143,,,Mars/Olympus_Mons,,,"),
    (6, "+13125550144,,,,07:30,,"),
    (7, "+13125550145,,,,,pigeon,"),
    (8, "+13125550146,,,,,email,true"),
    (9, "312-555-0142,,Ana again,,20:00,,1"),
    (10, '+13125550147,Bea@Example.ORG,"Reyes, Bea",Chicago,20:30,both,no'),
    (11, f"+13125550148,,{'x' * 10_000},,,,"),
    (12, f"{LONG},,,,,,"),
    (13, "+13125550149,,,,,,maybe"),
    (14, ",cy@example.org,Cy 😀 [bold]x[/bold],America/Denver,20:45,email,TRUE"),
    (15, "+13125550150"),  # a short row: the missing cells are empty
    (16, ",bea@example.org,Bea twice,,,email,"),
]
MIXED_REPORT = (
    "line 3 (Bad Phone): not a valid phone number: '555'\n"
    "line 5: unknown time zone: 'Mars/Olympus_Mons' (try a name like America/Chicago)\n"
    "line 6: time 07:30 is outside the send window 16:00-21:00 (SEND_WINDOW, STATE_WINDOWS)\n"
    "line 7: unknown channel: 'pigeon' (use sms, email or both)\n"
    "line 8: channel email needs an email address\n"
    "line 9 (Ana again): +13125550142 is already on line 2\n"
    f"line 11 ({'x' * 59}…): name is longer than 80 characters\n"
    f"line 12: {TOO_LONG_PHONE}\n"
    "line 13: confirmed is not true or false: 'maybe'\n"
    "line 16 (Bea twice): bea@example.org is already on line 10\n"
)


def mixed_csv(tmp_path: Path) -> Path:
    """UTF-8 with a BOM and CRLF line ends, as spreadsheets write it."""
    lines = [HEADER]
    for number, text in MIXED_ROWS:
        while len(lines) < number - 1:
            lines.append("")  # the blank line 4
        lines.append(text)
    path = tmp_path / "people.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    return path


def show(cli: Cli, handle: str) -> dict[str, object]:
    result = cli("show", handle, "--json")
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout)
    return shown


def dump_all(client: redis.Redis) -> dict[bytes, bytes | None]:
    return {key: client.dump(key) for key in sorted(client.keys("*"))}


def test_mixed_file_reports_every_bad_line_and_stores_the_good_rows(cli: Cli, tmp_path: Path
                                                                   ) -> None:
    result = cli("import", str(mixed_csv(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert result.stdout == MIXED_REPORT + (
        "imported 4, unchanged 0, failed 10\n"
        "note: 2 imported subscriber(s) without confirmed=yes are pending: they start only "
        "after replying YES; --send-confirmations asks them\n")

    ana = show(cli, "+13125550142")
    assert {k: ana[k] for k in ("name", "timezone", "time", "channel", "sms_status",
                                "email_status")} == {
        "name": "Ana Lima 🦶", "timezone": "America/Chicago", "time": "20:15", "channel": "sms",
        "sms_status": "active", "email_status": "none"}
    assert ana["next_send_utc"] is not None
    bea = show(cli, "+13125550147")
    assert {k: bea[k] for k in ("email", "name", "timezone", "time", "channel", "sms_status",
                                "email_status", "next_send_utc")} == {
        "email": "Bea@example.org", "name": "Reyes, Bea", "timezone": "America/Chicago",
        "time": "20:30", "channel": "both", "sms_status": "pending", "email_status": "pending",
        "next_send_utc": None}
    cy = show(cli, "cy@example.org")
    assert {k: cy[k] for k in ("phone", "name", "timezone", "time", "channel", "email_status")
            } == {"phone": None, "name": "Cy 😀 [bold]x[/bold]", "timezone": "America/Denver",
                  "time": "20:45", "channel": "email", "email_status": "active"}
    short = show(cli, "+13125550150")
    assert (short["time"], short["channel"], short["sms_status"]) == ("20:00", "sms", "pending")
    listed = json.loads(cli("list", "--json").stdout)
    assert sorted(r["phone"] or r["email"] for r in listed) == [
        "+13125550142", "+13125550147", "+13125550150", "cy@example.org"]


def test_running_the_same_file_again_changes_nothing(cli: Cli, redis_client: redis.Redis,
                                                     tmp_path: Path) -> None:
    path = mixed_csv(tmp_path)
    assert cli("import", str(path)).returncode == 0
    before = dump_all(redis_client)
    assert any(key.startswith(b"fc:sub:") for key in before)
    again = cli("import", str(path))
    assert again.returncode == 0, again.stderr
    assert again.stdout == MIXED_REPORT + "imported 0, unchanged 4, failed 10\n"
    assert dump_all(redis_client) == before  # every key, byte for byte (consent log included)


def test_existing_subscriber_is_left_alone(cli: Cli, tmp_path: Path) -> None:
    assert cli("subscribe", "+13125550142", "--time", "18:00", "--confirmed").returncode == 0
    path = tmp_path / "one.csv"
    path.write_text(f"{HEADER}\n+13125550142,new@example.org,New Name,,21:00,both,yes\n")
    result = cli("import", str(path))
    assert result.stdout == "imported 0, unchanged 1, failed 0\n"
    shown = show(cli, "+13125550142")
    assert (shown["time"], shown["email"], shown["name"]) == ("18:00", None, "")


def test_people_who_asked_to_stop_and_were_forgotten_are_refused(
    cli: Cli, console_services: Services, tmp_path: Path
) -> None:
    phone = "+13125550160"
    assert cli("subscribe", phone, "--confirmed").returncode == 0
    assert cli("reply", phone, "STOP").returncode == 0
    assert cli("forget", phone).returncode == 0
    email_consent.unsubscribe(console_services.store, "gone@example.org", datetime.now(UTC))
    path = tmp_path / "stopped.csv"
    path.write_text(f"phone,email,confirmed\n{phone},,yes\n,gone@example.org,yes\n"
                    "+13125550161,,yes\n")
    result = cli("import", str(path))
    assert result.returncode == 0
    assert result.stdout == (
        f"line 2: {phone} asked us to stop; they can text START to join again\n"
        "line 3: gone@example.org unsubscribed from our emails; import cannot add it again\n"
        "imported 1, unchanged 0, failed 2\n")
    assert cli("show", phone).returncode == 2
    assert cli("show", "gone@example.org").returncode == 2


def test_only_known_columns_in_any_order_missing_ones_empty(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    path.write_text(" Confirmed ,TIME,Phone\nyes,19:45,+13125550170\n\n\n")
    result = cli("import", str(path))
    assert result.stdout == "imported 1, unchanged 0, failed 0\n", result.stderr
    shown = show(cli, "+13125550170")
    assert (shown["time"], shown["sms_status"]) == ("19:45", "active")


def test_more_cells_than_columns_is_a_bad_row(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("phone,confirmed\n+13125550171,yes,surprise\n+13125550172,yes,,\n")
    result = cli("import", str(path))
    assert result.stdout == ("line 2: 1 cell(s) more than the header line has columns\n"
                             "imported 1, unchanged 0, failed 1\n")


@pytest.mark.parametrize("content,message", [
    (None, "no such file"),
    (b"", "is empty: expected a header line"),
    (b"\n\n", "is empty: expected a header line"),
    (b"phone,fone\n+13125550142,x\n", "unknown column 'fone'"),
    (b"+13125550142,,Ana\n", "unknown column '+13125550142'"),
    (b"phone,phone\n", "column 'phone' appears twice"),
    (b"name,time\nAna,20:00\n", "needs a phone or an email column"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a UTF-8 CSV file"),
    (b"phone\n+1312\x00555\n", "not a CSV file (it contains NUL bytes)"),
    (b'phone,name\n+13125550142,"Ana\n+13125550143,Bo\n', "not a readable CSV file (line 3"),
    (b'phone,name\n+13125550142,"Ana"x\n', "not a readable CSV file (line 2"),
])
def test_unusable_files_exit_2_with_one_line_and_write_nothing(
    cli: Cli, redis_client: redis.Redis, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_bytes(content)
    result = cli("import", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert redis_client.keys("*") == []


def test_a_directory_is_not_a_csv_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_list_shows_a_table_with_each_phone(cli: Cli, tmp_path: Path) -> None:
    assert cli("import", str(mixed_csv(tmp_path))).returncode == 0
    result = cli("list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["phone", "email", "name", "time", "timezone", "channel", "sms",
                                "email", "next", "send", "flag"]
    assert lines[-1] == "4 subscriber(s)"
    ana = next(line for line in lines if line.startswith("+13125550142 "))
    assert ana.split()[:5] == ["+13125550142", "-", "Ana", "Lima", "🦶"]
    assert "America/Chicago" in ana and "active" in ana and "20:15" in ana
    # Not markup: a name that looks like rich markup is printed as it is.
    assert any("Cy 😀 [bold]x[/bold]" in line and "cy@example.org" in line for line in lines)


def test_a_large_file_is_imported_whole(cli: Cli, tmp_path: Path) -> None:
    # How long this takes is `make bench`'s row 7, not an assertion here.
    rows = "".join(f"+1312{2000000 + n},,Person {n},,20:00,sms,yes\n" for n in range(2_000))
    path = tmp_path / "many.csv"
    path.write_text(f"{HEADER}\n{rows}")
    result = cli("import", str(path))
    assert result.stdout.splitlines()[-1] == "imported 2000, unchanged 0, failed 0"
    assert json.loads(cli("show", "+13122001999", "--json").stdout)["name"] == "Person 1999"


def test_send_confirmations_asks_only_the_people_just_enrolled_as_pending(
    twilio_cli: Cli, fake_twilio: FakeTwilio, tmp_path: Path,
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("\n".join([
        HEADER,
        "+13125550142,,Ana,,20:15,,yes",  # confirmed: nothing to ask
        "+13125550143,,Bo,,20:00,,",  # pending
        "+13125550144,bo@example.org,Cy,,20:30,both,no",  # pending on both channels
    ]) + "\n")
    first = twilio_cli("import", str(path), "--send-confirmations")
    assert first.returncode == 0, first.stderr
    assert "asked 2 of 2 pending subscriber(s) to confirm" in first.stdout
    texts = fake_twilio.messages
    assert sorted(m.to for m in texts) == ["+13125550143", "+13125550144"]
    assert all("YES" in m.body for m in texts)
    outbox = list((tmp_path / "outbox").glob("*.eml"))
    assert len(outbox) == 1 and "bo@example.org" in outbox[0].read_text()

    again = twilio_cli("import", str(path), "--send-confirmations")  # nothing new: nobody asked
    assert again.returncode == 0, again.stderr
    assert "imported 0, unchanged 3, failed 0" in again.stdout
    assert "asked" not in again.stdout
    assert len(fake_twilio.messages) == 2
