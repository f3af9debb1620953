"""Is this webhook really from Twilio, for our account? twilio-python's RequestValidator decides.

The URL checked is PUBLIC_URL + path + query, never the URL Flask sees (behind a TLS-terminating
proxy that is http://internal-host/...). Every scheme RequestValidator supports is followed:

- a form body: HMAC over the URL and every parameter, repeated ones included (the validator
  reads werkzeug's MultiDict itself, so nothing is flattened first);
- a JSON (or any other) body: Twilio adds `bodySHA256` to the URL and signs the URL alone; the
  validator checks that hash against the raw body, so a changed body is a bad signature (403);
  a body that is neither a form nor covered by `bodySHA256` is not signed at all: refused;
- `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=<HMAC_SHA1|HMAC_SHA256>`: signed
  with a SharedKey, whose secret comes from TWILIO_WEBHOOK_SHARED_KEYS; an unknown key or an
  algorithm the validator does not know is refused;
- the URL with and without its default port (the validator tries both).

Only then are the fields read: one value each (a repeated field is a 400, never a 500).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
BODY_HASH = "bodySHA256"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class Refused(Exception):
    """The request is not answered: `status` (400, 403, 415) with a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class WebhookAuth:
    public_url: str
    auth_token: str
    shared_keys: Mapping[str, str] = field(default_factory=dict)

    def fields(self, request: Request) -> dict[str, str]:
        """The signed request's fields, one value each; raise Refused otherwise."""
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            raise Refused(403, "missing signature")
        secret, algorithm = self._secret(request.headers.get(SIGNATURE_SETTINGS_HEADER, ""))
        url = self.public_url + request.path
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        signed: object
        if BODY_HASH in request.args:
            # Twilio's hash is 64 hex digits; anything else (an empty `?bodySHA256`, which the
            # validator's own query parsing drops, then reading the body as a form) is unsigned.
            if not _HEX64.fullmatch(request.args.get(BODY_HASH, "")):
                raise Refused(403, "bodySHA256 is not a SHA-256 hash")
            signed = request.get_data(as_text=True)  # the validator hashes it as UTF-8
        elif request.mimetype == FORM or not request.get_data():
            signed = request.form
        else:
            raise Refused(403, "the body is not covered by the signature (no bodySHA256)")
        if not secret or not RequestValidator(secret).validate(url, signed, signature,
                                                               algorithm):
            raise Refused(403, "invalid signature")
        return _single_values(request)

    def _secret(self, settings_header: str) -> tuple[str, str]:
        """The secret and algorithm the request says it was signed with."""
        algorithm = get_signature_algorithm(settings_header)
        key_id = ""
        for part in settings_header.split(","):
            name, _, value = part.partition("=")
            if name.strip() == "key":
                key_id = value.strip()
        if not key_id:
            return self.auth_token, algorithm
        secret = self.shared_keys.get(key_id)
        if secret is None:
            log.warning("webhook signed with an unknown shared key (%s)", key_id[:40])
            raise Refused(403, "unknown signing key")
        return secret, algorithm


def _single_values(request: Request) -> dict[str, str]:
    if request.mimetype == FORM or not request.get_data():
        fields: dict[str, str] = {}
        for name, values in request.form.lists():
            if len(values) != 1:
                raise Refused(400, f"{name[:40]} is repeated")
            fields[name] = values[0]
        return fields
    if request.is_json:
        return _json_fields(request.get_data(as_text=True))
    raise Refused(415, "send a form or a JSON object")


def _json_fields(text: str) -> dict[str, str]:
    """A flat JSON object's text and number fields (others are not ours to read: left out)."""
    try:
        pairs = json.loads(text, object_pairs_hook=list)
    except ValueError:
        raise Refused(400, "the body is not valid JSON") from None
    if not isinstance(pairs, list) or (pairs and not isinstance(pairs[0], tuple)):
        raise Refused(400, "the JSON body must be an object")
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise Refused(400, f"{name[:40]} is repeated")
        if isinstance(value, str):
            fields[name] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            fields[name] = str(value)
    return fields
