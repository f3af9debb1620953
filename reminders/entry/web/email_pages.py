"""The pages behind email links: unsubscribe (RFC 8058 one-click) and confirming an address.

GET (and HEAD) only show a page with a button: mail scanners fetch every link, and a scanner
must not unsubscribe or confirm anyone. Only POST changes anything; the GET and POST views are
separate functions registered for separate methods, so no method test can go wrong.

A link older than a year (tokens.LINK_LIFETIME_SECONDS) gets a page saying what to do instead,
with 410 Gone, and changes nothing whatever the method.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import render_template, request

from reminders.app.people import email_consent
from reminders.messages import tokens
from reminders.wiring import Services


class _Gone:
    """A valid link whose address is no longer on file (changed, or the person forgotten)."""


GONE = _Gone()


class _Expired:
    """A genuine link, issued more than a year ago."""


EXPIRED = _Expired()


class EmailPages:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def _page(self, title: str, message: str, status: int = 200, button: str = "") -> Any:
        action = request.full_path.rstrip("?") if button else ""
        html = render_template("page.html", title=title, message=message, button=button,
                               action=action, program_name=self.svc.settings.program_name)
        # The URL holds the token: never hand it to another site in a Referer header, never
        # keep the page in a cache, never let another site frame its button (clickjacking).
        return html, status, {
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                       "form-action 'self'; frame-ancestors 'none'; "
                                       "base-uri 'none'"}

    def _address(self, purpose: str) -> str | _Gone | _Expired | None:
        """The address the link was mailed to; GONE; EXPIRED; or None for a bad (or repeated)
        token."""
        given = request.args.getlist("token")
        if len(given) != 1:
            return None
        secret = self.svc.settings.secret_key
        try:
            link = tokens.read_token(secret, purpose, given[0])
        except tokens.ExpiredToken:
            return EXPIRED
        except tokens.BadToken:
            return None
        if link.address is not None:  # an old-format link names the address itself
            return link.address
        sub = self.svc.store.get(link.subscriber_id or "")
        if sub is None or sub.email is None or not link.is_for(secret, sub.email):
            return GONE
        return sub.email

    def _invalid(self) -> Any:
        return self._page("Link not valid", "This link is not valid. Please use the link from "
                          "your most recent email.", 400)

    def _expired(self, purpose: str) -> Any:
        if purpose == tokens.UNSUBSCRIBE:
            return self._page("This link has expired", "Unsubscribe links work for a year. "
                              "To stop our emails, use the unsubscribe link in our most recent "
                              "email, or text EMAIL OFF to our number. Nothing has been changed.",
                              410)
        return self._page("This link has expired", "Confirmation links work for a year. To get "
                          "a new one, text EMAIL followed by your address to our number (for "
                          "example EMAIL you@example.com). Nothing has been changed.", 410)

    def unsubscribe_page(self) -> Any:
        address = self._address(tokens.UNSUBSCRIBE)
        if address is None:
            return self._invalid()
        if isinstance(address, _Expired):
            return self._expired(tokens.UNSUBSCRIBE)
        if isinstance(address, _Gone):
            return self._page("Nothing to stop", "We no longer email this address.")
        return self._page("Stop these emails?", f"We will stop emailing {address}. "
                          "Your text messages, if any, are not affected.", button="Unsubscribe")

    def unsubscribe(self) -> Any:
        address = self._address(tokens.UNSUBSCRIBE)
        if address is None:
            return self._invalid()
        if isinstance(address, _Expired):
            return self._expired(tokens.UNSUBSCRIBE)
        if isinstance(address, _Gone):
            return self._page("You are unsubscribed", "We no longer email this address.")
        email_consent.unsubscribe(self.svc.store, address, datetime.now(UTC))
        return self._page("You are unsubscribed", f"No more emails will be sent to {address}.")

    def confirm_page(self) -> Any:
        address = self._address(tokens.CONFIRM_EMAIL)
        if address is None:
            return self._invalid()
        if isinstance(address, _Expired):
            return self._expired(tokens.CONFIRM_EMAIL)
        if isinstance(address, _Gone):
            return self._nothing_to_confirm()
        return self._page("Confirm your emails", f"Send the evening foot-care routine to "
                          f"{address}?", button="Yes, send them")

    def confirm(self) -> Any:
        address = self._address(tokens.CONFIRM_EMAIL)
        if address is None:
            return self._invalid()
        if isinstance(address, _Expired):
            return self._expired(tokens.CONFIRM_EMAIL)
        if isinstance(address, _Gone) or email_consent.confirm(
                self.svc.store, address, datetime.now(UTC)) is None:
            return self._nothing_to_confirm()
        return self._page("Confirmed", f"Your evening routine will be emailed to {address}.")

    def _nothing_to_confirm(self) -> Any:
        return self._page("Nothing to confirm", "This address is not waiting for confirmation "
                          "(it may have been changed or unsubscribed).", 404)
