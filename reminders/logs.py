"""Logging set-up shared by every process: one line per event, personal data masked.

Phone numbers and email addresses never reach a log line in clear: a filter on the handlers
masks them whatever logger wrote them (ours, Celery's, a library's). Message bodies are only
ever logged at DEBUG, and twilio-python's request dumps (which contain both) are silenced.

Masked is every form validation.py accepts: addresses with any character its pattern allows
in the local part (j{x}@, o'brien@), and numbers in any layout phonenumbers reads as a valid
number (E.164, +44 20 7946 0958, 12025550100, (202) 555-0100, 011 44 ..., tel:+1-202-...),
found by phonenumbers' own matcher rather than by a regex guessing at layouts.
"""

from __future__ import annotations

import logging
import os
import re

from phonenumbers import Leniency, PhoneNumberMatcher

from reminders.domain.validation import DEFAULT_REGION

# The characters validation._EMAIL allows, local part and domain. A match may start only where
# a run of local-part characters starts (the lookbehind), and the run is taken whole, never
# given back (possessive `*+`): so each character is read once or twice, whatever the line.
# Without both, a 60 kB run with no @ was tried from each of its 60,000 starts to its end,
# 1.8 billion steps: a 60 kB GET held the dev server's access log (and its reply) ~4 s.
_LOCAL = "A-Za-z0-9.!#$%&'*+/=?^_`{|}~-"
_EMAIL = re.compile(rf"(?<![{_LOCAL}])([{_LOCAL}])[{_LOCAL}]*+"
                    r"@([A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)+)")
# E.164 (what we store and log) whether or not it is valid (test numbers, new ranges), and the
# usual national layout, e.g. (312) 555-0142, even for fictional 555 numbers.
_PHONE = re.compile(r"\+\d{8,15}(?!\d)|(?<!\d)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)")
# Fewer digits than this cannot be a valid number anywhere: the matcher is not run.
_FEWEST_DIGITS = 7
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _masked_number(text: str) -> str:
    """Keep the last two digits: enough to tell two people apart in an incident, no more."""
    digits = re.sub(r"\D", "", text)
    return ("+" if text.startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]


def mask_phone(match: re.Match[str]) -> str:
    return _masked_number(match.group(0))


def _mask_numbers(text: str) -> str:
    if sum(ch.isdigit() for ch in text) < _FEWEST_DIGITS:
        return text
    found = [(m.start, m.end) for m in PhoneNumberMatcher(text, DEFAULT_REGION,
                                                          leniency=Leniency.VALID)]
    for start, end in reversed(found):
        text = text[:start] + _masked_number(text[start:end]) + text[end:]
    return text


def mask(text: str) -> str:
    # The local part's first character stays; what follows becomes "[...]", which no
    # address can contain, so a masked line never shows a local part followed by its @.
    text = _EMAIL.sub(lambda m: f"{m.group(1)}[...]@{m.group(2)}", text)
    # Valid numbers first, whole (the regex would take the national part of +1 268 464 ...).
    return _PHONE.sub(mask_phone, _mask_numbers(text))


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
