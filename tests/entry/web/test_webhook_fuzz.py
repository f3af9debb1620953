"""Property: nothing sent to any route makes the app answer 5xx.

Every route of the url_map, every method, with repeated fields, JSON bodies (flat, nested,
not JSON at all), wrong content types and bodies over the size limit; validly signed (so the
request reaches the handlers), forged, or unsigned. Each example gets a fresh subscriber, a
fresh MessageSid and fresh email links, so examples do not all end on one path (everyone
opted out, every text a replay, the hourly reply limit reached).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.storage import keys
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.outbox import emails, sent_links, token_of
from tests.webhook_client import OUR_NUMBER, new_sid

PUBLIC = "https://reminders.example.org"
NUMBERS = itertools.count(2_000_000)
FIELDS = ["From", "To", "Body", "MessageSid", "SmsSid", "AccountSid", "MessageStatus",
          "SmsStatus", "ErrorCode", "NumMedia", "token", "List-Unsubscribe"]
texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300)
keywordish = st.sampled_from(["STOP", "START", "YES", "HELP", "TIME ", "TZ ", "PAUSE ", "DONE",
                              "EMAIL ", "RESUME", "JOIN", "7/10", "pain ", "MASSAGE OFF", ""])
statuses = st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read",
                            "canceled", "SENT", ""])


@pytest.fixture
def app(twilio_services: Services) -> Iterator[Flask]:
    yield create_app(twilio_services)


class World:
    """Fresh people and links for one example."""

    def __init__(self, svc: Services, fake: FakeTwilio | None = None) -> None:
        self.svc, self.fake = svc, fake

    def person(self) -> str:
        phone = f"+1312{next(NUMBERS):07d}"
        enrol(self.svc.store, self.svc.settings, Enrolment(phone=phone, confirmed=True))
        return phone

    def sent_sid(self, phone: str) -> str:
        sub = self.svc.store.find(phone)
        assert sub is not None
        self.svc.sender.deliver(sub.id, date.today(), datetime.now(UTC), ignore_late=True)
        assert self.fake is not None
        return self.fake.messages[-1].sid

    def tokens(self) -> list[str]:
        n = next(NUMBERS)
        store, settings = self.svc.store, self.svc.settings
        before = emails(settings.outbox_dir)
        active = enrol(store, settings, Enrolment(email=f"a{n}@example.org", channel="email",
                                                  confirmed=True))
        pending = enrol(store, settings, Enrolment(email=f"p{n}@example.org", channel="email"))
        self.svc.sender.deliver(active.id, date.today(), datetime.now(UTC), ignore_late=True)
        self.svc.confirmations.mail(pending)
        return sorted({token_of(link) for link in
                       sent_links(emails(settings.outbox_dir) - before)})


@st.composite
def fields(draw: Any, path: str) -> dict[str, Any]:
    """Mostly plausible fields for the route, then changed, dropped and repeated at random."""
    base: dict[str, str] = {"AccountSid": DEFAULT_ACCOUNT_SID, "To": OUR_NUMBER,
                            "NumMedia": "0"}
    if path == "/sms/status":
        base |= {"MessageStatus": draw(statuses), "ErrorCode": draw(
            st.sampled_from(["", "30003", "21610", "30006"]) | texts)}
    else:
        base |= {"Body": draw(keywordish) + draw(texts)}
    pairs = [(k, v) for k, v in base.items() if draw(st.integers(0, 9)) != 0]
    pairs += draw(st.lists(st.tuples(st.sampled_from(FIELDS), texts), max_size=3))
    return {"pairs": pairs, "sender": draw(st.sampled_from(["fresh"] * 6 + ["stranger", "text"])),
            "sender_text": draw(texts), "sid": draw(st.sampled_from(["fresh"] * 5 + ["text"])),
            "sid_text": draw(texts), "token": draw(st.sampled_from(
                ["valid"] * 3 + ["repeated", "mangled", "none", "text"])),
            "token_text": draw(texts)}


@st.composite
def requests_(draw: Any, routes: dict[str, list[str]]) -> dict[str, Any]:
    """A route (the webhooks more often), mostly one of its own methods, any body and signing."""
    # The two webhooks get over half of the examples however many other routes there are
    # (the console's add seven), so their handlers' answers (204 included) are all reached.
    others = sum(1 for p in routes if not p.startswith("/sms/"))
    hooks = max(3, others)
    weighted = [p for p in sorted(routes) for _ in range(hooks if p.startswith("/sms/") else 1)]
    path = draw(st.sampled_from(weighted))
    method = draw(st.sampled_from(routes[path] * 10 + ["POST", "GET", "PUT", "DELETE"]))
    return {"path": path, "fields": draw(fields(path)), "method": method,
            "encoding": draw(st.sampled_from(["form"] * 4 + ["json"] * 2 + [
                "json-nested", "not-json", "text/plain", "multipart", "binary-form", "huge"])),
            "signing": draw(st.sampled_from(["valid"] * 5 + ["forged", "none", "url-only",
                                                             "unknown-shared-key"]))}


def _materialise(world: World, req: dict[str, Any]) -> tuple[MultiDict[str, str], str]:
    """The example's fields with real people, SIDs and tokens filled in; and the query."""
    spec = req["fields"]
    phone = {"fresh": world.person, "stranger": lambda: f"+1312{next(NUMBERS):07d}",
             "text": lambda: spec["sender_text"]}[spec["sender"]]()
    form: MultiDict[str, str] = MultiDict([("From", phone)])
    if req["path"] == "/sms/status" and spec["sid"] == "fresh" and spec["sender"] == "fresh":
        form.add("MessageSid", world.sent_sid(phone))
    else:
        form.add("MessageSid", new_sid() if spec["sid"] == "fresh" else spec["sid_text"])
    for key, value in spec["pairs"]:
        form.add(key, value)
    query = ""
    if req["path"] in ("/unsubscribe", "/email/confirm"):
        tokens = world.tokens()
        chosen = {"valid": tokens[:1], "repeated": tokens, "mangled": [t[:-3] for t in tokens],
                  "none": [], "text": [spec["token_text"]]}[spec["token"]]
        query = urlencode([("token", t) for t in chosen])
    return form, query


def _body(encoding: str, form: MultiDict[str, str]) -> tuple[bytes, str]:
    flat = {k: v for k, v in form.items()}
    if encoding == "json":
        return json.dumps(flat).encode(), "application/json"
    if encoding == "json-nested":
        return json.dumps({"From": [flat.get("From")], "Body": {"x": 1}, "n": None}).encode(), \
            "application/json"
    if encoding == "not-json":
        return b'{"From": "+1312', "application/json"
    if encoding == "text/plain":
        return urlencode(list(form.items(multi=True))).encode(), "text/plain"
    if encoding == "multipart":
        return b"--xx\r\nContent-Disposition: form-data; name=\"Body\"\r\n\r\nSTOP\r\n", \
            "multipart/form-data; boundary=xx"
    if encoding == "binary-form":
        return b"From=%ZZ&Body=\xff\xfe\x00STOP&" + b"%" * 50, "application/x-www-form-urlencoded"
    if encoding == "huge":
        return b"Body=" + b"x" * 70_000, "application/x-www-form-urlencoded"
    return urlencode(list(form.items(multi=True))).encode(), "application/x-www-form-urlencoded"


def _headers(req: dict[str, Any], path: str, query: str, body: bytes,
             form: MultiDict[str, str]) -> tuple[str, dict[str, str]]:
    """Sign the way Twilio would (JSON: bodySHA256 in the URL, signature over the URL alone)."""
    if req["encoding"].startswith("json") or req["encoding"] == "not-json":
        digest = hashlib.sha256(body).hexdigest()
        query = f"{query}&bodySHA256={digest}" if query else f"bodySHA256={digest}"
    url = PUBLIC + path + (f"?{query}" if query else "")
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    signing = req["signing"]
    headers: dict[str, str] = {}
    if signing == "valid":
        signed = {} if "bodySHA256" in query else form
        headers["X-Twilio-Signature"] = validator.compute_signature(url, signed)
    elif signing == "url-only":
        headers["X-Twilio-Signature"] = validator.compute_signature(url, {})
    elif signing == "unknown-shared-key":
        headers["X-Twilio-Signature"] = validator.compute_signature(url, form, "HMAC_SHA256")
        headers["X-Twilio-Webhooks-Signature-Settings"] = "key=HKunknown,algorithm=HMAC_SHA256"
    elif signing == "forged":
        headers["X-Twilio-Signature"] = "ywTFj4BJSWRL+HZKi5pbgIXj3ns="
    return path + (f"?{query}" if query else ""), headers


def test_no_request_to_any_route_yields_a_5xx(app: Flask, twilio_services: Services,
                                             fake_twilio: FakeTwilio) -> None:
    world = World(twilio_services, fake_twilio)
    client = app.test_client()
    routes: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.arguments:
            routes.setdefault(rule.rule, []).extend(
                sorted((rule.methods or set()) - {"OPTIONS"}))
    seen: Counter[int] = Counter()
    # Each example's own subscriber just before its request: SMS state, and whether that
    # number had texted us already (replay memory, hourly reply counter).
    found_before: Counter[tuple[str, bool]] = Counter()

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(req=requests_(routes))
    def check(req: dict[str, Any]) -> None:
        form, query = _materialise(world, req)
        if req["fields"]["sender"] == "fresh":
            sub, phone = twilio_services.store.find(form["From"]), form["From"]
            texted = twilio_services.redis.exists(keys.inbound_seen(phone),
                                                  keys.inbound_counter(phone))
            found_before[(sub.sms_status if sub else "gone", bool(texted))] += 1
        body, content_type = _body(req["encoding"], form)
        target, headers = _headers(req, req["path"], query, body, form)
        response = client.open(target, method=req["method"], data=body, headers=headers,
                               content_type=content_type)
        assert response.status_code < 500, (req, response.status_code, response.data[:300])
        assert b"Traceback" not in response.data
        seen[response.status_code] += 1

    check()
    # The examples reached the handlers, not only the door: replies, refusals and bad input.
    for status in (200, 204, 400, 403, 405):
        assert seen[status] > 0, seen
    # ... and did not collapse onto one path: each example met a subscriber of its own, still
    # active and new, not one that earlier examples had opted out or used up.
    assert set(found_before) == {("active", False)}, found_before


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(prefix=keywordish, body=texts)
def test_no_inbound_body_yields_a_5xx(app: Flask, twilio_services: Services, prefix: str,
                                      body: str) -> None:
    phone = World(twilio_services).person()
    params = {"From": phone, "To": OUR_NUMBER, "Body": prefix + body, "MessageSid": new_sid(),
              "AccountSid": DEFAULT_ACCOUNT_SID}
    signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        PUBLIC + "/sms/inbound", params)
    response = app.test_client().post("/sms/inbound", data=params,
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, (response.status_code, response.data[:300])
