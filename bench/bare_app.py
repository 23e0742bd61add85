"""The baseline for bench/lookup.py: the least a Flask app can do to answer a look-up.

Bare Flask and a bare driver (no SQLAlchemy, no extensions): ``/bare/<receipt>`` reads one row
of the product's ``requests`` table by its unique (indexed) receipt number and answers it as
JSON, or a 404 JSON when there is none. Each worker thread opens its connection once, on its
first request (so after gunicorn has forked): the standard library's sqlite3 on the file named
by $BARE_APP_DB, or psycopg in autocommit (one round trip per look-up) on the PostgreSQL
database named by $BARE_APP_DSN when that is set.

    BARE_APP_DB=/abs/path/bench.sqlite gunicorn -w 2 -b 127.0.0.1:8000 bench.bare_app:app
    BARE_APP_DSN=postgresql://postgres@127.0.0.1/bench gunicorn -w 2 bench.bare_app:app
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from flask import Flask, Response, jsonify

DB_ENV = "BARE_APP_DB"
DSN_ENV = "BARE_APP_DSN"
QUERY = "SELECT status, expected_on, created_at FROM requests WHERE receipt = {}"

app = Flask(__name__)
_local = threading.local()


def connection() -> Any:
    """This thread's connection to the benchmark's database, opened once."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        if os.environ.get(DSN_ENV):
            import psycopg

            conn = psycopg.connect(os.environ[DSN_ENV], autocommit=True)
            _local.query = QUERY.format("%s")
        else:
            conn = sqlite3.connect(os.environ[DB_ENV], check_same_thread=False)
            _local.query = QUERY.format("?")
        _local.conn = conn
    return conn


@app.get("/bare/<receipt>")
def bare(receipt: str) -> Response | tuple[Response, int]:
    row = connection().execute(_local.query, (receipt,)).fetchone()
    if row is None:
        return jsonify(error={"code": "not_found"}), 404
    status, expected_on, created_at = row
    return jsonify(status=status, expected_on=str(expected_on), created_at=str(created_at))
