"""When tonight ends (app/console/tonight.py): the latest end of an evening still under way or
ahead today in the zones people live in; once every one is over, tomorrow's; never more than
24 hours ahead. Pure: no Redis."""

from __future__ import annotations

from datetime import UTC, datetime

from reminders.app.console.tonight import cursor, tonight_ends
from reminders.domain.windows import parse_window

END = parse_window("16:00-21:00")
US = ["America/New_York", "America/Chicago", "America/Los_Angeles"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_tonight_ends_with_the_last_zone_whose_evening_is_not_over() -> None:
    # 15:00 UTC = 10:00 in New York: every evening is ahead; Los Angeles ends last.
    assert tonight_ends(US, END, at("2026-12-07T15:00")) == (
        at("2026-12-08T05:00"), "America/Los_Angeles")
    # 03:30 UTC = 22:30 New York, 21:30 Chicago, 19:30 Los Angeles: only the west is left.
    assert tonight_ends(US, END, at("2026-12-08T03:30")) == (
        at("2026-12-08T05:00"), "America/Los_Angeles")
    # Its last minute is still tonight's.
    assert tonight_ends(US, END, at("2026-12-08T05:00:30"))[0] == at("2026-12-08T05:00")
    # 05:30 UTC: every evening of the 7th is over; tonight is the 8th's, to the west's end.
    assert tonight_ends(US, END, at("2026-12-08T05:30")) == (
        at("2026-12-09T05:00"), "America/Los_Angeles")


def test_a_zone_a_day_ahead_and_the_cap() -> None:
    # 02:00 UTC: Chicago's 20:00 (the 7th) and Tokyo's 11:00 (the 8th): tonight ends with
    # Chicago's evening, before Tokyo's starts.
    assert tonight_ends(["America/Chicago", "Asia/Tokyo"], END, at("2026-12-08T02:00")) == (
        at("2026-12-08T03:00"), "America/Chicago")
    # 10:00 UTC: Tokyo's 19:00 (the 8th) is under way; Chicago's 8th ends later still.
    assert tonight_ends(["America/Chicago", "Asia/Tokyo"], END, at("2026-12-08T10:00")) == (
        at("2026-12-09T03:00"), "America/Chicago")
    # Kiritimati (UTC+14) at 18:00 on the 9th, Pago Pago (UTC-11) at 17:00 on the 8th: both
    # under way, a day apart.
    assert tonight_ends(["Pacific/Kiritimati", "Pacific/Pago_Pago"], END,
                        at("2026-12-09T04:00")) == (at("2026-12-09T08:00"), "Pacific/Pago_Pago")
    # Zones a day apart never make tonight longer than 24 hours.
    now = at("2026-12-08T07:30")
    end, _ = tonight_ends(["Pacific/Kiritimati", "Pacific/Pago_Pago"], END, now)
    assert (end - now).total_seconds() <= 24 * 3600
    assert tonight_ends([], END, at("2026-12-08T20:00")) == (at("2026-12-08T21:00"), "UTC")


def test_a_page_cursor_is_read_or_ignored() -> None:
    assert cursor("1765152000.0:ab12_cd") == (1765152000.0, "ab12_cd")
    assert cursor("") is None and cursor("x:y") is None and cursor("1:" + "a" * 65) is None
