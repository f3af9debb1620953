"""GET, HEAD and OPTIONS never change state, on any route (mail scanners fetch every link).

The routes are not listed by hand: the test walks the app's url_map, so a route added later is
covered too. Each is fetched bare and with the real links of real emails (a valid unsubscribe
token of an active subscriber, a valid confirmation token of a pending one), without and with
a logged-in console operator's session, and the whole Redis database must be byte for byte the
same afterwards.
"""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, date, datetime

import requests

from reminders.app.imports import jobs as import_jobs
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.storage import imports
from reminders.wiring import Services
from tests.console_client import OPERATOR, PASSWORD, add_operator, csrf_of
from tests.outbox import emails, sent_links, token_of
from tests.snapshot import differences, snapshot
from tests.webhook_client import serve

ACTIVE = "ana@example.org"
PENDING = "bo@example.org"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def tokens_of_real_emails(svc: Services) -> list[str]:
    active = enrol(svc.store, svc.settings, Enrolment(email=ACTIVE, channel="email",
                                                      confirmed=True, time="20:00"))
    pending = enrol(svc.store, svc.settings, Enrolment(email=PENDING, channel="email"))
    assert svc.sender.deliver(active.id, date(2027, 1, 9), datetime.now(UTC),
                              ignore_late=True).channels == {"email": "sent"}
    assert svc.confirmations.mail(pending)
    links = sent_links(emails(svc.settings.outbox_dir))
    assert any("/unsubscribe?" in link for link in links)
    assert any("/email/confirm?" in link for link in links)
    return sorted({token_of(link) for link in links})


def paths(svc: Services) -> list[str]:
    """One concrete path per GET route; converters get a real subscriber's address."""
    found = []
    for rule in create_app(svc).url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        path = rule.rule
        for argument in rule.arguments:
            value = ACTIVE
            if argument == "job_id":  # the pending page shows a "send to all" job only
                value = pending_job(svc) if "/pending/" in path else import_job(svc)
            path = re.sub(rf"<(?:[^:<>]+:)?{argument}>", value, path)
        found.append(path)
    assert {"/unsubscribe", "/email/confirm", "/healthz", "/metrics", "/console/",
            "/console/people/" + ACTIVE} <= set(found)
    return found


def import_job(svc: Services) -> str:
    """A console import's job (the newest, else a new one waiting for a worker)."""
    jobs = [job_id for job_id, job in imports.recent(svc.redis)
            if job.get("kind") != import_jobs.PENDING_KIND]
    if jobs:
        return jobs[0]
    return import_jobs.upload(svc.store, OPERATOR, "people.csv",
                              io.BytesIO(b"phone\n+13125550199\n"), datetime.now(UTC))


def pending_job(svc: Services) -> str:
    """The console's "ask everyone waiting for YES" job (made once, never handed to a worker)."""
    job_id, _ = import_jobs.ask_everyone_pending_later(svc.store, OPERATOR, datetime.now(UTC))
    return job_id


def console_cookie(svc: Services, base: str) -> str:
    """Log an operator in (a POST: before the snapshot); the session cookie, sent by hand
    below since it is Secure (PUBLIC_URL is https) and this server speaks plain HTTP."""
    add_operator(svc)
    page = requests.get(base + "/console/login", timeout=10)
    response = requests.post(base + "/console/login", timeout=10, allow_redirects=False, data={
        "email": OPERATOR, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        headers={"Cookie": f"console_session={page.cookies['console_session']}"})
    assert response.status_code == 302, response.text
    cookie = f"console_session={response.cookies['console_session']}"
    assert requests.get(base + "/console/", headers={"Cookie": cookie}, timeout=10,
                        allow_redirects=False).status_code == 200
    return cookie


def test_no_get_head_or_options_changes_anything(twilio_services: Services) -> None:
    svc = twilio_services
    tokens = tokens_of_real_emails(svc)
    with serve(svc) as base:
        cookie = console_cookie(svc, base)
        shown: set[tuple[str, int]] = set()
        routes = paths(svc)  # (an import job made first, for its page)
        before = snapshot(svc.redis)
        assert before
        for path, params, method, session in itertools.product(
                routes, [{}, *({"token": token} for token in tokens),
                             {"token": tokens, "List-Unsubscribe": "One-Click"}],
                SAFE_METHODS, ("", cookie)):
            response = requests.request(method, base + path, params=params, timeout=10,
                                        headers={"X-Twilio-Signature": "x", "Cookie": session},
                                        allow_redirects=False)
            assert response.status_code < 500, (method, path, response.text)
            changed = differences(before, snapshot(svc.redis))
            assert not changed, (method, path, params, changed)
            if path.startswith("/console/") and session and method == "GET":
                shown.add((path, response.status_code))
    # The console's pages were really shown to the operator, not only redirected to login.
    assert {(p, 200) for p in paths(svc) if p.startswith("/console/")} <= shown, shown
    assert svc.store.find(ACTIVE).email_status == "active"  # type: ignore[union-attr]
    assert svc.store.find(PENDING).email_status == "pending"  # type: ignore[union-attr]


def test_the_same_links_do_change_state_by_post(twilio_services: Services) -> None:
    """The walk above is not vacuous: POSTing the very same links does the change."""
    svc = twilio_services
    tokens = tokens_of_real_emails(svc)
    with serve(svc) as base:
        for token in tokens:
            for path in ("/unsubscribe", "/email/confirm"):
                requests.post(base + path, params={"token": token}, timeout=10)
    assert svc.store.find(ACTIVE).email_status == "unsubscribed"  # type: ignore[union-attr]
    assert svc.store.find(PENDING).email_status == "active"  # type: ignore[union-attr]
