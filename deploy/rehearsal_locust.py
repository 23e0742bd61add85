"""The rehearsal's load, for locust headless: 90% look-ups (the JSON answer and the status
page, of real receipts and of well-formed unknown ones), 8% board polls with ETags, 2% staff
work through the console's forms (sign in, mark a scanned pile ready, hand a document over),
each with the CSRF token of the page it came from, as a person would.

It reads what it needs from ``REHEARSAL_DATA`` (a JSON file the rehearsal writes: receipts,
points, a staff account and the documents it may move) and writes two files beside it:
every request it made (``requests.csv``: when, kind, milliseconds, failed) and every staff
change the service accepted (``changes.jsonl``), which the rehearsal then looks for in the
database.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from locust import HttpUser, events, task

DATA = json.loads(Path(os.environ["REHEARSAL_DATA"]).read_text(encoding="utf-8"))
OUT = Path(os.environ["REHEARSAL_DATA"]).parent
PROCESSING: list[str] = list(DATA["processing"])
READY: list[str] = list(DATA["ready"])
BATCH_SIZE = 3
UNKNOWN_SHARE = 0.1

_requests = (OUT / "requests.csv").open("w", newline="", encoding="utf-8")
_rows = csv.writer(_requests)
_rows.writerow(["at", "kind", "ms", "failed"])
_changes = (OUT / "changes.jsonl").open("a", encoding="utf-8")


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_kw):  # noqa: ANN001
    _rows.writerow([f"{time.time():.3f}", name, f"{response_time:.1f}", int(exception is not None)])


@events.quitting.add_listener
def _close(**_kw: object) -> None:
    _requests.close()
    _changes.close()


def changed(kind: str, receipts: list[str], status: int) -> None:
    _changes.write(json.dumps({"kind": kind, "receipts": receipts, "status": status}) + "\n")
    _changes.flush()


def hidden(html: str, name: str) -> str | None:
    """The value of a form's hidden input, whatever the order of its attributes."""
    for tag in re.findall(r"<input[^>]*>", html):
        if re.search(rf'name="{re.escape(name)}"', tag):
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else None
    return None


def poisson_pace(rate: float) -> Callable[[HttpUser], float]:
    """Each user's tasks arrive as a Poisson process of ``rate`` a second, as independent
    citizens do, so that the load is the same in every phase and what changes is the fault.
    A steady pace (locust's ``constant_throughput``) kept the users in step, as they started
    and as a fault stalled them all alike: the load came as bursts of a dozen requests at
    once, and each answer's time was mostly its wait behind the others. A user that fell
    behind (a stall) catches up by one task at most, never by a burst of its own."""

    def wait(user: HttpUser) -> float:
        now = time.monotonic()
        due = max(getattr(user, "due", now), now - 1 / rate) + random.expovariate(rate)
        user.due = due  # type: ignore[attr-defined]
        return max(0.0, due - now)

    return wait


def first_option(html: str, select: str) -> str | None:
    block = re.search(rf'<select[^>]*name="{select}"[^>]*>(.*?)</select>', html, re.S)
    values = re.findall(r'<option[^>]*value="([^"]+)"', block.group(1)) if block else []
    return values[0] if values else None


class Visitor(HttpUser):
    """Citizens, lobby boards and, now and then, the staff at the counter."""

    wait_time = poisson_pace(float(os.environ.get("REHEARSAL_RATE", "1.5")))

    def on_start(self) -> None:
        self.etags: dict[str, str] = {}
        self.signed_in = False

    def receipt(self) -> tuple[str, bool]:
        if random.random() < UNKNOWN_SHARE:
            return random.choice(DATA["unknown"]), False
        return random.choice(DATA["known"]), True

    @task(45)
    def lookup_json(self) -> None:
        number, known = self.receipt()
        kind = "lookup json" if known else "lookup json unknown"
        self.look_up(f"/api/v1/requests/{number}", kind, known)

    @task(45)
    def lookup_page(self) -> None:
        number, known = self.receipt()
        kind = "status page" if known else "status page unknown"
        self.look_up(f"/s/{number}", kind, known)

    def look_up(self, path: str, kind: str, known: bool) -> None:
        """A look-up succeeds when a known receipt is found and an unknown one is not."""
        with self.client.get(path, name=kind, catch_response=True) as answer:
            if answer.status_code != (200 if known else 404):
                answer.failure(f"answered {answer.status_code}")
            else:
                answer.success()

    @task(8)
    def board_poll(self) -> None:
        point = random.choice(DATA["points"])
        headers = {"If-None-Match": self.etags[point]} if point in self.etags else {}
        with self.client.get(
            f"/api/v1/points/{point}/board",
            headers=headers,
            name="board poll",
            catch_response=True,
        ) as answer:
            if answer.status_code not in (200, 304):
                answer.failure(f"answered {answer.status_code}")
                return
            if etag := answer.headers.get("ETag"):
                self.etags[point] = etag
            answer.success()

    @task(2)
    def staff_work(self) -> None:
        if not self.signed_in and not self.sign_in():
            return
        if random.random() < 0.5 and len(PROCESSING) >= BATCH_SIZE:
            self.mark_ready([PROCESSING.pop() for _ in range(BATCH_SIZE)])
        elif READY:
            self.hand_over(READY.pop())

    def sign_in(self) -> bool:
        page = self.client.get("/staff/login", name="staff sign-in page")
        token = hidden(page.text, "csrf_token")
        if token is None:
            return False
        form = {"username": DATA["username"], "password": DATA["password"], "csrf_token": token}
        with self.client.post(
            "/staff/login",
            data=form,
            name="staff sign-in",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            self.signed_in = answer.status_code == 303
            if not self.signed_in:
                answer.failure(f"answered {answer.status_code}")
        return self.signed_in

    def mark_ready(self, receipts: list[str]) -> None:
        page = self.client.get("/staff/batch", name="staff batch page")
        token, point = hidden(page.text, "csrf_token"), first_option(page.text, "point")
        if token is None or point is None:
            self.signed_in = False
            return
        form = {
            "receipts": "\n".join(receipts),
            "to": "ready",
            "point": point,
            "everyone": "batch",
            "csrf_token": token,
        }
        with self.client.post(
            "/staff/batch",
            data=form,
            name="staff batch ready",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code == 200:
                changed("ready", receipts, answer.status_code)
            else:
                answer.failure(f"answered {answer.status_code}")

    def hand_over(self, receipt: str) -> None:
        page = self.client.get(f"/staff/handover?no={receipt}", name="staff handover page")
        token, version = hidden(page.text, "csrf_token"), hidden(page.text, "version")
        if token is None or version is None:
            self.signed_in = page.url is not None and "/staff/login" not in page.url
            return
        form = {"collector": "self", "id_checked": "y", "version": version, "csrf_token": token}
        with self.client.post(
            f"/staff/handover/{receipt}",
            data=form,
            name="staff handover",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code == 303:
                changed("collected", [receipt], answer.status_code)
            else:
                answer.failure(f"answered {answer.status_code}")
