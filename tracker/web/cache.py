"""Answers a worker keeps in memory for a few seconds: the lobby boards, polled by every TV
in a province, and the statistics, read by many and changed once a day (and the office's
usual days that the status page shows, from the same daily figures).

Each gunicorn worker keeps its own; nothing is shared, so nothing can go stale for longer
than the period given. The ETag travels with the body, so a reader that already has it gets
a 304 from any worker that built the same bytes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app

T = TypeVar("T")


@dataclass(frozen=True)
class Kept:
    body: bytes
    etag: str


def etag_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class WorkerCache:
    """Built values by key, each kept for the seconds given when it was built."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[Hashable, tuple[Any, float]] = {}

    def get(self, key: Hashable, seconds: float, build: Callable[[], T]) -> T:
        now = time.monotonic()
        found = self._kept.get(key)
        if found is not None and found[1] > now:
            return found[0]  # type: ignore[no-any-return]
        made = build()
        with self._lock:  # expired values go when a new one comes, so the cache stays small
            self._kept = {k: kept for k, kept in self._kept.items() if kept[1] > now}
            self._kept[key] = (made, now + seconds)
        return made

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def worker_cache(name: str) -> WorkerCache:
    """This app's cache called ``name`` in this worker."""
    return current_app.extensions.setdefault(f"siapambil.kept.{name}", WorkerCache())
