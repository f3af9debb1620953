"""The signed Twilio webhooks over real HTTP: every reply-table row, forgeries, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
import requests

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import Cli, make_services
from tests.snapshot import differences, snapshot
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"
TWILIO_WHOLE_WORD_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                              "OPTOUT", "REVOKE"}
STRANGER = "+13125550199"


@pytest.fixture
def web(twilio_services: Services) -> Iterator[WebhookClient]:
    with serve(twilio_services) as base:
        yield WebhookClient(base, twilio_services.settings.public_url, DEFAULT_AUTH_TOKEN)


@pytest.fixture
def app_answers(twilio_env: dict[str, str]) -> Iterator[tuple[WebhookClient, Services]]:
    svc = make_services({**twilio_env, "OPT_OUT_HANDLED_BY": "app"})
    with serve(svc) as base:
        yield WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN), svc


def reply_of(response: requests.Response) -> str | None:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    messages = [m.text for m in root.iter("Message")]
    assert len(messages) <= 1
    return messages[0] if messages else None


def subscribe(svc: Services, confirmed: bool = True, **kw: str) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                                    time="20:00", confirmed=confirmed, **kw))


def state(svc: Services) -> Subscriber:
    sub = svc.store.find(PHONE)
    assert sub is not None
    return sub


# -- signatures ------------------------------------------------------------------------------
@pytest.mark.parametrize("signature", [None, "", "forged-signature",
                                       "ywTFj4BJSWRL+HZKi5pbgIXj3ns="])
def test_unsigned_or_forged_requests_are_refused_and_change_nothing(
    web: WebhookClient, twilio_services: Services, signature: str | None
) -> None:
    subscribe(twilio_services)
    params = {"From": PHONE, "Body": "STOP"}
    response = web.post("/sms/inbound", params, signature=signature)
    assert response.status_code == 403
    assert state(twilio_services).sms_status == "active"
    assert web.post("/sms/status", {"MessageSid": "SMx", "MessageStatus": "failed"},
                    signature=signature).status_code == 403


def test_signature_for_another_url_or_token_is_refused(web: WebhookClient,
                                                       twilio_services: Services) -> None:
    subscribe(twilio_services)
    params = web.inbound_params(PHONE, "STOP")
    assert web.post("/sms/inbound", params, sign_url=web.base_url + "/sms/inbound"
                    ).status_code == 403
    other = WebhookClient(web.base_url, web.public_url, "another-token")
    assert other.post("/sms/inbound", params).status_code == 403
    # Tampering with a signed body: same signature, different words.
    helped = web.inbound_params(PHONE, "HELP")
    good = web.post("/sms/inbound", helped)
    assert good.status_code == 200
    from twilio.request_validator import RequestValidator

    sig = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        web.public_url + "/sms/inbound", helped)
    tampered = web.post("/sms/inbound", {**helped, "Body": "STOP"}, signature=sig)
    assert tampered.status_code == 403
    assert state(twilio_services).sms_status == "active"


def test_signature_with_the_default_port_is_accepted(web: WebhookClient,
                                                     twilio_services: Services) -> None:
    subscribe(twilio_services)
    response = web.post("/sms/inbound", web.inbound_params(PHONE, "HELP"),
                        sign_url="https://reminders.example.org:443/sms/inbound")
    assert response.status_code == 200


# -- malformed input -------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{"Body": "STOP"}, {"From": PHONE}, {},
                                    {"From": "not-a-number", "Body": "STOP"},
                                    {"From": "", "Body": "HELP"}])
def test_malformed_inbound_is_a_400(web: WebhookClient, params: dict[str, str]) -> None:
    assert web.post("/sms/inbound", params).status_code == 400


def test_huge_and_binary_bodies_get_a_calm_hint(web: WebhookClient,
                                                twilio_services: Services) -> None:
    subscribe(twilio_services)
    for body in ("x" * 10_000, "\x00\x01\ufffd\udbff" * 50, "🦶" * 500, "STOP" + " blah" * 2000):
        reply = reply_of(web.text(PHONE, body.encode("utf-8", "replace").decode("utf-8")))
        assert reply is not None and "HELP" in reply
    assert state(twilio_services).sms_status == "active"


def test_a_body_over_the_size_limit_is_refused_cleanly(web: WebhookClient) -> None:
    response = web.text(PHONE, "y" * 100_000)
    assert response.status_code == 413 and "Traceback" not in response.text


# -- the replies table -----------------------------------------------------------------------
@pytest.mark.parametrize("body", ["STOP", "stop.", "Stop please", "no more texts", "UNSUBSCRIBE",
                                  "cancel", "END", "QUIT", "OPTOUT", "REVOKE", "STOPALL"])
def test_stop_family_opts_out_at_once_and_twilio_answers(web: WebhookClient,
                                                         twilio_services: Services,
                                                         body: str) -> None:
    subscribe(twilio_services)
    reply = reply_of(web.text(PHONE, body))  # OPT_OUT_HANDLED_BY=twilio
    if body.strip().upper() in TWILIO_WHOLE_WORD_KEYWORDS:
        assert reply is None  # Twilio answered its own keyword
    else:  # Twilio acts only on whole-word keywords: the one confirmation is ours
        assert reply is not None and "START" in reply
    sub = state(twilio_services)
    assert sub.sms_status == "opted_out"
    assert twilio_services.store.next_due(sub.id) is None
    event = twilio_services.store.consent_history(sub.id)[-1]
    assert event["action"] == "opted_out" and event["words"] == body and event["at"]


def test_stop_when_the_app_answers_confirms_once(app_answers: tuple[WebhookClient, Services]
                                                 ) -> None:
    web, svc = app_answers
    subscribe(svc)
    first = reply_of(web.text(PHONE, "STOP"))
    assert first is not None and "unsubscribed" in first and "START" in first
    assert reply_of(web.text(PHONE, "STOP")) is None  # at most one confirmation
    assert reply_of(web.text(PHONE, "hello?")) is None  # nothing else after STOP
    started = reply_of(web.text(PHONE, "START"))
    assert started is not None and "8:00pm" in started
    assert state(svc).sms_status == "active"


def test_yes_confirms_a_pending_subscriber(web: WebhookClient, twilio_services: Services) -> None:
    sub = subscribe(twilio_services, confirmed=False)
    assert twilio_services.store.next_due(sub.id) is None
    assert "YES first" in (reply_of(web.text(PHONE, "DONE")) or "")
    reply = reply_of(web.text(PHONE, "Yes!"))
    assert reply is not None and "you're in" in reply
    assert state(twilio_services).sms_status == "active"
    assert twilio_services.store.next_due(sub.id) is not None


@pytest.mark.parametrize("word", ["START", "UNSTOP", "yes"])
def test_start_family_opts_back_in(web: WebhookClient, twilio_services: Services,
                                   word: str) -> None:
    subscribe(twilio_services)
    web.text(PHONE, "STOP")
    assert reply_of(web.text(PHONE, word)) is None  # Twilio already answered
    sub = state(twilio_services)
    assert sub.sms_status == "active" and twilio_services.store.next_due(sub.id) is not None
    assert twilio_services.store.consent_history(sub.id)[-1]["action"] == "opted_in"


@pytest.mark.parametrize("word", ["JOIN", "join", "START"])
def test_unknown_number_joins_with_defaults(web: WebhookClient, twilio_services: Services,
                                            word: str) -> None:
    reply = reply_of(web.text(STRANGER, word))
    sub = twilio_services.store.find(STRANGER)
    assert sub is not None and sub.sms_status == "active"
    assert sub.timezone == "America/Chicago"  # from the 312 area code
    assert sub.send_time.strftime("%H:%M") == "20:00"
    if word.upper() == "JOIN":
        assert reply is not None and "you're in" in reply and "STOP" in reply


@pytest.mark.parametrize("who", [PHONE, STRANGER])
@pytest.mark.parametrize("word", ["HELP", "info", "help?"])
def test_help_to_anyone(app_answers: tuple[WebhookClient, Services], who: str,
                        word: str) -> None:
    web, svc = app_answers  # with OPT_OUT_HANDLED_BY=twilio, Twilio answers bare HELP/INFO
    subscribe(svc)
    reply = reply_of(web.text(who, word))
    assert reply is not None
    for needed in ("Foot Care Reminders", "help@example.org", "Msg&data rates may apply",
                   "STOP", "TIME"):
        assert needed in reply
    if who == PHONE:
        assert "8:00pm" in reply


def test_time_and_tz_move_tonight_in_the_due_index(web: WebhookClient,
                                                   twilio_services: Services) -> None:
    sub = subscribe(twilio_services)
    reply = reply_of(web.text(PHONE, "TIME 8:15pm"))
    assert reply is not None and "8:15pm" in reply
    due = twilio_services.store.next_due(sub.id)
    assert due is not None and due.astimezone().minute == 15
    assert state(twilio_services).send_time.strftime("%H:%M") == "20:15"
    assert "between" in (reply_of(web.text(PHONE, "TIME 7am")) or "")
    assert state(twilio_services).send_time.strftime("%H:%M") == "20:15"
    assert "America/Denver" in (reply_of(web.text(PHONE, "TZ Denver")) or "")
    assert "America/Los_Angeles" in (reply_of(web.text(PHONE, "tz America/Los_Angeles")) or "")
    assert "don't know" in (reply_of(web.text(PHONE, "TZ Atlantis")) or "")
    after = state(twilio_services)
    assert after.timezone == "America/Los_Angeles"
    due = twilio_services.store.next_due(sub.id)
    assert due is not None and due.hour == 4 and due.minute == 15  # 20:15 PST = 04:15 UTC


def test_pause_and_resume(web: WebhookClient, twilio_services: Services) -> None:
    subscribe(twilio_services)
    assert "Paused" in (reply_of(web.text(PHONE, "PAUSE 3")) or "")
    paused = state(twilio_services).paused_until
    assert paused is not None
    nights = (paused - datetime.now(UTC).date()).days
    assert 1 <= nights <= 3
    assert "1 to 90" in (reply_of(web.text(PHONE, "PAUSE 500")) or "")
    assert "Welcome back" in (reply_of(web.text(PHONE, "RESUME")) or "")
    assert state(twilio_services).paused_until is None


def test_done_replies_with_the_streak_and_scores_are_stored(
    web: WebhookClient, twilio_services: Services, twilio_cli: Cli
) -> None:
    sub = subscribe(twilio_services)
    from zoneinfo import ZoneInfo

    local_today = datetime.now(UTC).astimezone(ZoneInfo(sub.timezone))
    evening = local_today.date() if local_today.hour >= 5 else local_today.date() - timedelta(1)
    twilio_services.store.save(sub, sub.with_changes(streak=4,
                                                     last_done=evening - timedelta(days=1)))
    assert "5 evenings in a row" in (reply_of(web.text(PHONE, "DONE")) or "")
    assert "5 evenings in a row" in (reply_of(web.text(PHONE, "done!")) or "")  # same evening
    assert state(twilio_services).streak == 5
    assert "7/10" in (reply_of(web.text(PHONE, "pain 7")) or "")
    from reminders.storage import nights as night_records

    assert night_records.read(twilio_services.redis, sub.id, evening)["score"] == "7"
    assert "3/10" in (reply_of(web.text(PHONE, "3/10")) or "")
    assert night_records.read(twilio_services.redis, sub.id, evening)["score"] == "3"
    shown = json.loads(twilio_cli("show", PHONE, "--json").stdout)
    assert shown["streak"] == 5


def test_email_on_and_off(web: WebhookClient, twilio_services: Services) -> None:
    subscribe(twilio_services)
    assert "me@example.org" in (reply_of(web.text(PHONE, "EMAIL me@example.org")) or "")
    sub = state(twilio_services)
    assert (sub.email, sub.channel) == ("me@example.org", "both")
    assert twilio_services.store.find("me@example.org") is not None
    assert "doesn't look like" in (reply_of(web.text(PHONE, "EMAIL not-an-address")) or "")
    assert "no more emails" in (reply_of(web.text(PHONE, "EMAIL OFF")) or "")
    assert state(twilio_services).channel == "sms"


def test_anything_else_gets_the_safety_net(web: WebhookClient, twilio_services: Services) -> None:
    subscribe(twilio_services)
    for body in ("hello", "what is this", "🙂", ""):
        reply = reply_of(web.text(PHONE, body))
        assert reply is not None and "HELP" in reply and "911" in reply, reply
    # a chronic symptom is not a STOP and not a shrug: the library's answer
    reply = reply_of(web.text(PHONE, "I can't stop the tingling"))
    assert reply is not None and "doctor" in reply, reply
    assert state(twilio_services).sms_status == "active"


def test_replies_are_gsm7_and_short(web: WebhookClient, twilio_services: Services) -> None:
    from tests.messages.test_sms_budget import independent_segments

    subscribe(twilio_services)
    for body in ("help me", "TIME 9pm", "TZ Denver", "PAUSE 2", "RESUME", "DONE", "5", "hello",
                 "EMAIL a@example.org", "EMAIL OFF"):
        reply = reply_of(web.text(PHONE, body))
        assert reply is not None
        assert independent_segments(reply) <= (2 if body == "help me" else 1), (body, reply)


def test_an_auto_responder_loop_is_cut_off(web: WebhookClient,
                                           twilio_services: Services) -> None:
    subscribe(twilio_services)
    replies = [reply_of(web.text(PHONE, "Thanks for your message, I am away")) for _ in range(25)]
    assert sum(r is not None for r in replies) == 20
    assert replies[-1] is None
    web.text(PHONE, "STOP")  # consent still works after the limit
    assert state(twilio_services).sms_status == "opted_out"


# -- delivery status -------------------------------------------------------------------------
def _sent_message(svc: Services, fake: FakeTwilio) -> tuple[Subscriber, str]:
    sub = subscribe(svc)
    from zoneinfo import ZoneInfo

    day = datetime.now(UTC).astimezone(ZoneInfo(sub.timezone)).date()
    svc.sender.deliver(sub.id, day, datetime.now(UTC), ignore_late=True)
    [message] = fake.messages
    return sub, message.sid


def _status(web: WebhookClient, sid: str, status: str, code: str | None = None
            ) -> requests.Response:
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
              "AccountSid": DEFAULT_ACCOUNT_SID, "To": PHONE, "From": "+15005550006",
              "ApiVersion": "2010-04-01"}
    if code:
        params["ErrorCode"] = code
    return web.post("/sms/status", params)


def test_status_moves_forward_only(web: WebhookClient, twilio_services: Services,
                                   fake_twilio: FakeTwilio, twilio_cli: Cli) -> None:
    _, sid = _sent_message(twilio_services, fake_twilio)
    for status in ("sent", "delivered", "sent", "queued", "delivered", "failed", "sending"):
        assert _status(web, sid, status).status_code == 204
    last = json.loads(twilio_cli("show", PHONE, "--json").stdout)["last_delivery"]
    assert last["status"] == "delivered" and last["error_code"] is None


def test_undelivered_is_terminal_and_reports_its_code(web: WebhookClient,
                                                      twilio_services: Services,
                                                      fake_twilio: FakeTwilio,
                                                      twilio_cli: Cli) -> None:
    _, sid = _sent_message(twilio_services, fake_twilio)
    _status(web, sid, "undelivered", "30003")
    _status(web, sid, "delivered")
    _status(web, sid, "sent")
    last = json.loads(twilio_cli("show", PHONE, "--json").stdout)["last_delivery"]
    assert (last["status"], last["error_code"]) == ("undelivered", "30003")
    assert state(twilio_services).sms_status == "active"  # a carrier hiccup, not a bad number


@pytest.mark.parametrize("code,expected", [("21610", "opted_out"), ("30006", "invalid"),
                                           ("21211", "invalid")])
def test_status_errors_about_the_person_stop_texting(web: WebhookClient,
                                                     twilio_services: Services,
                                                     fake_twilio: FakeTwilio, code: str,
                                                     expected: str) -> None:
    _, sid = _sent_message(twilio_services, fake_twilio)
    _status(web, sid, "failed", code)
    assert state(twilio_services).sms_status == expected


@pytest.mark.parametrize("signature", [None, "", "forged-signature", "other-token"])
def test_a_forged_status_for_a_real_message_changes_nothing(
    web: WebhookClient, twilio_services: Services, fake_twilio: FakeTwilio, twilio_cli: Cli,
    signature: str | None,
) -> None:
    _, sid = _sent_message(twilio_services, fake_twilio)
    before = snapshot(twilio_services.redis)
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "failed", "SmsStatus": "failed",
              "ErrorCode": "21610", "AccountSid": DEFAULT_ACCOUNT_SID, "To": PHONE,
              "From": "+15005550006", "ApiVersion": "2010-04-01"}
    if signature == "other-token":  # validly signed, but with somebody else's token
        forger = WebhookClient(web.base_url, web.public_url, "another-token")
        response = forger.post("/sms/status", params)
    else:
        response = web.post("/sms/status", params, signature=signature)
    assert response.status_code == 403
    assert differences(before, snapshot(twilio_services.redis)) == []
    # Not even the replay memory was touched: Twilio's genuine callback still applies.
    assert _status(web, sid, "delivered").status_code == 204
    last = json.loads(twilio_cli("show", PHONE, "--json").stdout)["last_delivery"]
    assert last["status"] == "delivered" and state(twilio_services).sms_status == "active"


def test_status_for_an_unknown_message_changes_nothing(web: WebhookClient) -> None:
    assert _status(web, "SM" + "f" * 32, "delivered").status_code == 204
    assert web.post("/sms/status", {"MessageSid": "SM1"}).status_code == 400


@pytest.mark.parametrize("body", ["I just want to end it all", "some nights I want to die",
                                  "thinking about suicide"])
def test_words_of_distress_get_help_and_never_an_opt_out(web: WebhookClient,
                                                          twilio_services: Services,
                                                          body: str) -> None:
    subscribe(twilio_services)
    reply = reply_of(web.text(PHONE, body))
    assert reply is not None and "988" in reply and "help@example.org" in reply
    assert state(twilio_services).sms_status == "active"
