"""The SMS transport behind the circuit (storage/circuit.py): no request while Twilio refuses
our account, and every answer updates the circuit."""

from __future__ import annotations

from datetime import datetime

from reminders.channels.base import DeliveryError, SmsReceipt, SmsTransport
from reminders.storage.circuit import Circuit


class GuardedSms:
    """The SMS transport behind the circuit: no request while it is open, and every answer
    updates it. Used for every text (nightly, confirmations, replies sent outside TwiML)."""

    def __init__(self, inner: SmsTransport, circuit: Circuit) -> None:
        self.inner = inner
        self.circuit = circuit

    def send_sms(self, to: str, body: str, send_by: float | None = None) -> SmsReceipt:
        self._check()
        try:
            receipt = self.inner.send_sms(to, body, send_by)
        except DeliveryError as exc:
            raise self._refused(exc) from exc
        self.circuit.ok()
        return receipt

    def find_sent(self, to: str, since: datetime, body: str) -> SmsReceipt | None:
        self._check()
        try:
            found = self.inner.find_sent(to, since, body)
        except DeliveryError as exc:
            raise self._refused(exc) from exc
        self.circuit.ok()
        return found

    def _check(self) -> None:
        stop = self.circuit.paused()
        if stop is not None:
            raise DeliveryError(f"sending stopped ({stop.reason})", code="circuit-open",
                                retry_after=stop.seconds, service=True)

    def _refused(self, exc: DeliveryError) -> DeliveryError:
        if not exc.service:
            return exc
        self.circuit.trip(exc.code, exc.message)
        return DeliveryError(exc.message, code=exc.code, retry_after=self.circuit.open_seconds,
                             service=True)
