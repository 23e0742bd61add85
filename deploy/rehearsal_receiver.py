"""The rehearsal's SMS, WhatsApp or e-mail gateway: an HTTP receiver that answers 200 to every
POST and records each message as one JSON line (when, path, idempotency key, recipient).

Apprise's ``json://`` sends the message as JSON with the ``Idempotency-Key`` header the
channel URL names; the file is appended to, so a receiver taken down and started again
keeps what it recorded before.

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


def handler_for(record: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                recipient = str(json.loads(body).get("to", ""))
            except (ValueError, AttributeError):
                recipient = ""
            line = {
                "at": time.time(),
                "path": urlsplit(self.path).path,
                "key": self.headers.get("Idempotency-Key", ""),
                "to": recipient,
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
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler_for(args.record))
    server.serve_forever()


if __name__ == "__main__":
    main()
