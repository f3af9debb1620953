"""The care team's escalation messages: the email (subject and text from templates/staff/
care_team*.txt.j2: staff-facing, English only) and the webhook's JSON body. Minimum
necessary: who (name and number, so someone can call), level, category, when, the deadline
and a console link; never the person's words, and nothing about the person in the subject."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reminders.messages.environment import environment

LEVEL_WORDS = {"emergency": "emergency", "crisis": "crisis (self-harm)", "urgent": "urgent",
               "same_day": "same day", "soon": "soon", "none": "not understood",
               "routine": "question"}
KIND_WORDS = {"text": "a text", "flag": "a foot problem", "crisis": "a crisis",
              "worsening": "a worsening score", "silence": "no reply for several evenings"}


@dataclass(frozen=True)
class Escalation:
    item: dict[str, str]
    stage: int  # 1: the care team, 2: the escalation address
    name: str
    timezone: str
    late: bool  # the deadline passed (an at-once escalation of an emergency is not late)


@dataclass
class CareTeamMessages:
    templates_dir: Path
    program_name: str
    public_url: str
    sender: str

    def link(self, item_id: str) -> str:
        return f"{self.public_url}/console/inbox#item-{item_id}"

    def _context(self, e: Escalation) -> dict[str, Any]:
        zone = ZoneInfo(e.timezone)

        def local(iso: str) -> str:
            at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
            return at.strftime("%Y-%m-%d %H:%M %Z")

        who = " ".join(part for part in (e.name, e.item.get("phone", "")) if part)
        return {"item": e.item, "stage": e.stage, "late": e.late,
                "program_name": self.program_name, "who": who or "an unknown number",
                "level_words": LEVEL_WORDS.get(e.item.get("level", ""), e.item.get("level")),
                "kind_words": KIND_WORDS.get(e.item.get("kind", ""), e.item.get("kind")),
                "opened_local": local(e.item["at"]), "due_local": local(e.item["due_by"]),
                "link": self.link(e.item["id"])}

    def email(self, e: Escalation, to: str, now: datetime) -> EmailMessage:
        env = environment(self.templates_dir)
        context = self._context(e)
        message = EmailMessage()
        message["Subject"] = " ".join(
            env.get_template("staff/care_team_subject.txt.j2").render(**context).split())
        message["From"] = self.sender
        message["To"] = to
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(env.get_template("staff/care_team.txt.j2").render(**context))
        return message

    def webhook_body(self, e: Escalation, now: datetime) -> bytes:
        item = e.item
        body = {"delivery": f"{item['id']}:{e.stage}", "item": item["id"], "stage": e.stage,
                "kind": item.get("kind", ""), "level": item.get("level", ""),
                "category": item.get("category", ""), "opened_at": item.get("at", ""),
                "due_by": item.get("due_by", ""), "late": e.late,
                "person": {"name": e.name, "phone": item.get("phone", ""),
                           "timezone": e.timezone},
                "console_url": self.link(item["id"]),
                "sent_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
