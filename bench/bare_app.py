"""The baseline for bench/lookup.py: the least a Flask app can do to answer a look-up.

Bare Flask and the standard library's sqlite3 (no SQLAlchemy, no extensions): ``/bare/<receipt>``
reads one row of the product's ``requests`` table by its unique (indexed) receipt number and
answers it as JSON, or a 404 JSON when there is none. Each worker thread opens its connection
once, on its first request (so after gunicorn has forked).

    BARE_APP_DB=/abs/path/bench.sqlite gunicorn -w 2 -b 127.0.0.1:8000 bench.bare_app:app
"""

from __future__ import annotations

import os
import sqlite3
import threading

from flask import Flask, Response, jsonify

DB_ENV = "BARE_APP_DB"
QUERY = "SELECT status, expected_on, created_at FROM requests WHERE receipt = ?"

app = Flask(__name__)
_local = threading.local()


def connection() -> sqlite3.Connection:
    """This thread's connection to the database named by $BARE_APP_DB, opened once."""
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ[DB_ENV], check_same_thread=False)
        _local.conn = conn
    return conn


@app.get("/bare/<receipt>")
def bare(receipt: str) -> Response | tuple[Response, int]:
    row = connection().execute(QUERY, (receipt,)).fetchone()
    if row is None:
        return jsonify(error={"code": "not_found"}), 404
    status, expected_on, created_at = row
    return jsonify(status=status, expected_on=expected_on, created_at=created_at)
