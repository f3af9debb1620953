"""One process of the bare comparison loop: twilio-python `messages.create`, nothing else.

Uses the service's own RebasedHttpClient (same connection pooling, same timeout) and the same
parameters as TwilioSms.send_sms, so the only difference from a real send is everything we do
around the HTTP call. Started N times in parallel by the end-to-end benchmark:

    python -m benchmarks.bare_twilio --url URL --count N --first K --start-file F --body B
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from twilio.rest import Client

from benchmarks.common import FROM_NUMBER, PUBLIC_URL
from benchmarks.population import phone
from reminders.channels.twilio_sms import RebasedHttpClient
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--first", type=int, default=0, help="number of the first recipient")
    parser.add_argument("--start-file", required=True, help="begin once this file exists")
    parser.add_argument("--body", required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN,
                    http_client=RebasedHttpClient(args.url, args.timeout))
    deadline = time.monotonic() + 60
    while not os.path.exists(args.start_file):
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.005)
    for n in range(args.first, args.first + args.count):
        client.messages.create(to=phone(n), body=args.body, from_=FROM_NUMBER,
                               status_callback=PUBLIC_URL + "/sms/status")
    return 0


if __name__ == "__main__":
    sys.exit(main())
