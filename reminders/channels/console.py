"""Console backends: print what would be sent and keep a copy under OUTBOX_DIR.

They are the embedded default, so a newcomer sees reminders on screen without any account.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from reminders.channels.base import SlotMissed, SmsReceipt
from reminders.domain.gsm import count_segments
from reminders.logs import mask


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class ConsoleSms:
    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def send_sms(self, to: str, body: str, send_by: float | None = None) -> SmsReceipt:
        if send_by is not None and time.monotonic() > send_by:
            raise SlotMissed()
        self.outbox.mkdir(parents=True, exist_ok=True)
        provider_id = "CONSOLE" + secrets.token_hex(8)
        now = datetime.now(UTC)
        record = {"id": provider_id, "to": to, "body": body, "at": now.isoformat()}
        name = f"sms-{now:%Y%m%dT%H%M%S}-{provider_id}.json"
        _write_atomically(self.outbox / name, json.dumps(record, indent=2).encode())
        bar = "-" * 60
        # The screen shows the recipient masked, like every log line; the outbox file has it all.
        print(f"\n{bar}\nSMS to {mask(to)} ({now:%H:%M:%S} UTC)\n{bar}\n{body}\n{bar}",
              flush=True, file=sys.stdout)
        return SmsReceipt(provider_id, "sent", count_segments(body).segments)

    def find_sent(self, to: str, since: datetime, body: str) -> SmsReceipt | None:
        if not self.outbox.is_dir():
            return None
        for path in sorted(self.outbox.glob("sms-*.json")):
            record = json.loads(path.read_text())
            if (record["to"] == to and record["body"] == body
                    and datetime.fromisoformat(record["at"]) >= since):
                return SmsReceipt(record["id"], "sent", count_segments(record["body"]).segments)
        return None


class ConsoleEmail:
    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def send_email(self, message: EmailMessage,
                   before_data: Callable[[], None] | None = None) -> str:
        if before_data is not None:
            before_data()
        self.outbox.mkdir(parents=True, exist_ok=True)
        message_id = str(message["Message-ID"] or secrets.token_hex(8))
        safe = "".join(ch for ch in message_id if ch.isalnum())[:40]
        now = datetime.now(UTC)
        _write_atomically(self.outbox / f"email-{now:%Y%m%dT%H%M%S}-{safe}.eml", bytes(message))
        print(f"\nEMAIL to {mask(str(message['To']))}: {message['Subject']} "
              f"(saved in {self.outbox})", flush=True)
        return message_id
