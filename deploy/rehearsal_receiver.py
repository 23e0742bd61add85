"""The rehearsal's SMS, WhatsApp or e-mail gateway, or an office's system told by webhooks:
an HTTP receiver that answers 200 to every POST and records each message as one JSON line
(when, path, idempotency key, recipient; for a webhook, whether its signature verified).

Apprise's ``json://`` sends the message as JSON with the ``Idempotency-Key`` header the
channel URL names; a webhook delivery carries its key as ``webhook-id``, and with
``--secret-file`` (the secret ``webhook add`` printed, read at each delivery) its signature
is checked as a SIAK bridge would, with the Standard Webhooks library. The file is appended
to, so a receiver taken down and started again keeps what it recorded before.

    python deploy/rehearsal_receiver.py --host 10.0.0.30 --port 9001 --record sms.jsonl
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from standardwebhooks import Webhook, WebhookVerificationError


def signed(secret_file: Path | None, body: bytes, headers: dict[str, str]) -> bool | None:
    """Whether a webhook delivery verifies under the secret in ``secret_file`` (None: no
    webhook, or no secret to check it with)."""
    if secret_file is None or "webhook-id" not in headers:
        return None
    try:
        Webhook(secret_file.read_text().strip()).verify(body, headers)
    except (WebhookVerificationError, OSError, ValueError):
        return False
    return True


def handler_for(record: Path, secret_file: Path | None = None) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                recipient = str(json.loads(body).get("to", ""))
            except (ValueError, AttributeError):
                recipient = ""
            headers = {name.lower(): value for name, value in self.headers.items()}
            line = {
                "at": time.time(),
                "path": urlsplit(self.path).path,
                "key": headers.get("idempotency-key") or headers.get("webhook-id", ""),
                "to": recipient,
                "signed": signed(secret_file, body, headers),
            }
            with lock, record.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: object) -> None:
            """Quiet: the record file is the log."""

    return Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--secret-file", type=Path, default=None)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler_for(args.record, args.secret_file))
    server.serve_forever()


if __name__ == "__main__":
    main()
