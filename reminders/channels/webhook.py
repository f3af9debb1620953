"""A signed POST to the care team's own system (CARE_TEAM_WEBHOOK_URL), over requests.

The receiver's contract (README, "The care-team loop"): a JSON body; header
`X-Reminders-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the shared
secret>`; `X-Reminders-Delivery: <item>:<stage>` names the delivery, the same on every retry,
so the receiver can drop a repeat. Any 2xx is success. 408, 429 and 5xx answers and network
faults are retried here (ATTEMPTS in all, backoff doubling from BACKOFF_SECONDS, honouring
Retry-After); another 4xx is permanent (the receiver refuses the request as made).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import requests

from reminders.channels.base import DeliveryError

SIGNATURE_HEADER = "X-Reminders-Signature"
DELIVERY_HEADER = "X-Reminders-Delivery"
ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
RETRYABLE = {408, 429}


def signature(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


class SignedWebhook:
    def __init__(self, url: str, secret: str, timeout: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.sleep = sleep
        self.session = requests.Session()

    def post(self, body: bytes, delivery: str) -> int:
        """POST the body, signed afresh on each attempt; the receiver's status code."""
        problem = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            now = int(time.time())
            headers = {"Content-Type": "application/json", DELIVERY_HEADER: delivery,
                       SIGNATURE_HEADER: signature(self.secret, body, now)}
            try:
                answer = self.session.post(self.url, data=body, headers=headers,
                                           timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                problem = type(exc).__name__
                continue
            if 200 <= answer.status_code < 300:
                return answer.status_code
            problem = f"HTTP {answer.status_code}"
            if answer.status_code not in RETRYABLE and answer.status_code < 500:
                raise DeliveryError(f"the webhook refused it: {problem}", permanent=True,
                                    code=str(answer.status_code))
        raise DeliveryError(f"the webhook did not answer after {ATTEMPTS} attempts: {problem}",
                            code="webhook")
