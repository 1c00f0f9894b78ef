#!/usr/bin/env python3
"""A webhook receiver that verifies Standard Webhooks 1.0 signatures (PRODUCT.md section 12).

Standard library only. Run it with the secret the service showed when you subscribed:

    WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py 9000

Every delivery is printed with whether its signature verifies; a delivery that does not
verify, or whose timestamp is more than five minutes away, is answered 401 (the service
retries it). Deliveries are at least once and may come out of order: drop a repeated
`webhook-id`, and order by `data.sequence` within a process.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

SECRET = base64.b64decode(os.environ["WEBHOOK_SECRET"].removeprefix("whsec_"))
TOLERANCE = 300  # seconds
seen = set()


def verified(msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(SECRET, signed, hashlib.sha256).digest()).decode()
    # During the 24 h after a secret rotation the header holds two signatures.
    return any(
        hmac.compare_digest(sig.removeprefix("v1,"), expected)
        for sig in header.split(" ")
        if sig.startswith("v1,")
    )


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        msg_id = self.headers.get("webhook-id", "")
        ok = verified(
            msg_id,
            self.headers.get("webhook-timestamp", "0"),
            body,
            self.headers.get("webhook-signature", ""),
        )
        event = json.loads(body) if ok else {}
        repeat = msg_id in seen
        seen.add(msg_id)
        print(
            f"{'verified' if ok else 'REFUSED '} {msg_id} {event.get('type')} "
            f"{'(repeat) ' if repeat else ''}{json.dumps(event.get('data'))}",
            flush=True,
        )
        self.send_response(204 if ok else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
