"""The Twilio test double as a service of the compose stack (tests/stack/compose.test.yml).

It is testing/twilio_api.py's FakeTwilio, run on its own, plus what real Twilio does after it
takes a message: it posts the signed status callbacks (``sent``, then ``delivered``) to the
message's StatusCallback URL, so the stack's web app gets them over the compose network exactly
as it would get Twilio's. Each callback's answer is printed as one JSON line (``docker compose
logs twilio``). The stack test reads the messages through the fake's own REST API (the list
endpoint, with the account's credentials), from outside the containers::

    python -m testing.twilio_stack --host 0.0.0.0 --port 8080
"""

from __future__ import annotations

import argparse
import json
import queue
import signal
import sys
import threading
import time
from types import FrameType

from testing.twilio_api import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    FakeTwilio,
    _Incoming,
    _Reply,
)

# What Twilio reports, in order, for a message it handed to the carrier and got delivered, and
# when (seconds after its 201): real callbacks come a second or more after the answer, so the
# sender has recorded the message's sid by then (a callback for an unknown sid is ignored).
DELIVERY = (("sent", 1.0), ("delivered", 2.0))


class DeliveringTwilio(FakeTwilio):
    """FakeTwilio that posts the signed status callbacks of every message it accepts."""

    def __init__(self, account_sid: str, auth_token: str, host: str, port: int) -> None:
        # A real provider's answer takes a while: sends are in flight when a worker is killed.
        super().__init__(account_sid, auth_token, host, port, latency=(0.05, 0.3))
        self._callbacks: queue.Queue[tuple[float, str] | None] = queue.Queue()
        self._poster = threading.Thread(target=self._post_callbacks, name="callbacks",
                                        daemon=True)

    def start(self) -> DeliveringTwilio:
        super().start()
        self._poster.start()
        return self

    def stop(self) -> None:
        self._callbacks.put(None)
        super().stop()

    def _accept_message(self, req: _Incoming) -> _Reply:
        reply = super()._accept_message(req)
        sid = reply.payload.get("sid") if reply.status == 201 else None
        if sid and req.form.get("StatusCallback"):
            # After the answer: Twilio's callbacks come after its 201, never before.
            self._callbacks.put((time.monotonic(), sid))
        return reply

    def _post_callbacks(self) -> None:
        # One thread, in order of acceptance: each message's callbacks in Twilio's order.
        while (accepted := self._callbacks.get()) is not None:
            accepted_at, sid = accepted
            for status, after in DELIVERY:
                time.sleep(max(0.0, accepted_at + after - time.monotonic()))
                line: dict[str, object] = {"callback": status, "sid": sid}
                try:
                    line["http_status"] = self.post_status(sid, status)
                except OSError as exc:  # the web is down or restarting: Twilio gives up too
                    line["error"] = str(exc)
                print(json.dumps(line), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the Twilio double of the compose stack.")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)
    fake = DeliveringTwilio(args.account_sid, args.auth_token, args.host, args.port)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    fake.start()
    print(json.dumps({"listening": fake.url}), flush=True)
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
