"""Logging set-up shared by every process: one line per event, personal data masked.

Phone numbers and email addresses never reach a log line in clear: a filter on the handlers
masks them whatever logger wrote them (ours, Celery's, a library's). Message bodies are only
ever logged at DEBUG, and twilio-python's request dumps (which contain both) are silenced.
"""

from __future__ import annotations

import logging
import os
import re

# E.164 (what we store and log) and the usual national layouts, e.g. (312) 555-0142.
_PHONE = re.compile(r"\+\d{8,15}(?!\d)|(?<!\d)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def mask_phone(match: re.Match[str]) -> str:
    """Keep the last two digits: enough to tell two people apart in an incident, no more."""
    digits = re.sub(r"\D", "", match.group(0))
    return ("+" if match.group(0).startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]


def mask(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(mask_phone, text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install(level: str | None = None) -> None:
    """Configure the root logger once: format, level (LOG_LEVEL), masking on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=FORMAT)
    root.setLevel((level or os.environ.get("LOG_LEVEL", "INFO")).upper())
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
    # twilio-python logs every request and response (numbers, bodies) at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
