"""How far one STOP reaches (OPT_OUT_SCOPE): `program` or `sender`.

- `sender`: a STOP ends every kind of message from us to that number: its own reminders,
  weekly summaries and check-ins, and the caregiver texts it gets about someone else. This is
  the FCC's revoke-all rule (47 CFR 64.1200(a)(10), Report and Order FCC 24-24: a revocation
  ends the sender's other robocalls and robotexts too, not only the program answered), in
  force from 2027-01-31.
- `program`: a STOP ends the program the number is in: a number that is both a subscriber and
  a caregiver stops its own texts, and keeps the caregiver texts until it sends CARE OFF (or a
  STOP once it has no texts of its own). A number that is only a caregiver stops those.

In both, the person's own STOP ends their consent to caregiver texts about them (texts about
their health going to someone else), and Twilio's own opt-out (OPT_OUT_HANDLED_BY=twilio)
blocks every text from our sender to that number whatever this says.

Unset, the scope follows the date: `program` before REVOKE_ALL_FROM, `sender` from it (by the
UTC date, which reaches it before any US zone does). Pure: no I/O.
"""

from __future__ import annotations

from datetime import date

PROGRAM = "program"
SENDER = "sender"
SCOPES = (PROGRAM, SENDER)
REVOKE_ALL_FROM = date(2027, 1, 31)


def scope(setting: str, today: date) -> str:
    """The scope in force on `today` (UTC date): OPT_OUT_SCOPE when set, else by the date."""
    if setting:
        return setting
    return SENDER if today >= REVOKE_ALL_FROM else PROGRAM
