"""Log masking, as a property: whatever number or address validation accepts, in whatever
layout, never reaches a rendered log line in clear."""

from __future__ import annotations

import io
import logging
import re

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from reminders.domain import validation
from reminders.domain.validation import InvalidInput, normalise_email, normalise_phone
from reminders.logs import MaskingFilter
from reminders.storage import ids

KINDS = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE,
         PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER)
EXAMPLES = [number for region in sorted(phonenumbers.SUPPORTED_REGIONS) for kind in KINDS
            if (number := phonenumbers.example_number_for_type(region, kind)) is not None]


def layouts(number: PhoneNumber) -> list[str]:
    """The ways people and programs write a number: E.164, international, national, dialled
    from the US (011), RFC 3966, and E.164 without its plus."""
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return [e164, e164[1:], phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
            national, re.sub(r"[\s()-]+", ".", national).strip("."),
            phonenumbers.format_out_of_country_calling_number(number, "US"),
            phonenumbers.format_number(number, PhoneNumberFormat.RFC3966)]


# Where numbers and addresses end up in log lines (no digits of their own).
LINES = ["send to {} now", "from={} status=queued", "reply ({}): hint", "<{}>", "'{}',",
         "contact: {}.", "{}", "to {} and {}"]


def rendered(template: str, value: str) -> str:
    """The line as a handler with our filter writes it (logger, %-args, formatter); every {}
    of the template gets `value`."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("tests.masking")
    logger.propagate, logger.handlers = False, [handler]
    logger.warning(template.replace("{}", "%s"), *[value] * template.count("{}"))
    return stream.getvalue()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.sampled_from(EXAMPLES), st.integers(0, 6), st.sampled_from(LINES))
def test_every_accepted_phone_number_is_masked(number: PhoneNumber, layout: int,
                                               template: str) -> None:
    text = layouts(number)[layout]
    try:
        normalise_phone(text)
    except InvalidInput:
        assume(False)  # validation refuses it: it can never be a subscriber's number
    line = rendered(template, text)
    national = phonenumbers.national_significant_number(number)
    assert national not in re.sub(r"\D", "", line), line
    assert len(re.sub(r"\D", "", line)) <= 2 * template.count("{}")  # at most the last two


ADDRESSES = st.from_regex(validation._EMAIL, fullmatch=True).filter(lambda a: len(a) <= 254)


@settings(max_examples=400, deadline=None)
@given(ADDRESSES, st.sampled_from(LINES))
def test_every_accepted_address_is_masked(address: str, template: str) -> None:
    address = normalise_email(address)
    local = address.rpartition("@")[0]
    line = rendered(template, address)
    assert f"{local}@" not in line, line
    assert address not in line


@pytest.mark.parametrize("text", ["j{x}@example.com", "+44 20 7946 0958", "12025550100",
                                  "1 (202) 555-0100", "011 44 20 7946 0958",
                                  "tel:+1-202-555-0100", "o'brien+feet@mail.example.ie"])
def test_the_forms_the_review_found(text: str) -> None:
    line = rendered("to {} now", text)
    assert "@" not in text or text.rpartition("@")[0] + "@" not in line
    assert len(re.sub(r"\D", "", line)) <= 2, line


def test_dates_times_and_ids_stay_readable() -> None:
    line = rendered("delivery subscriber={} date=2027-01-09 20:15 duration_ms=1234 sid={}",
                    "83920174651a")
    assert "2027-01-09 20:15" in line and "duration_ms=1234" in line
    assert "83920174651a" in line


@given(st.integers(min_value=ids.ID_LOW, max_value=ids.ID_HIGH - 1))
def test_subscriber_ids_of_nine_digits_are_not_masked_as_phone_numbers(number: int) -> None:
    for template in ("dispatch skip subscriber={} reason=gone",
                     "delivery subscriber={} channel=sms date=2027-01-09 outcome=sent "
                     "duration_ms=12 error=-", "dispatch resend subscriber={} date=2027-01-09"):
        assert str(number) in rendered(template, str(number)), template
