"""gunicorn's settings for SiapAmbil: ``gunicorn wsgi:app`` reads this file from the working
directory (or ``gunicorn -c gunicorn.conf.py wsgi:app``). Each may be overridden on the
command line or through ``GUNICORN_CMD_ARGS``.

- ``bind``: ``127.0.0.1:8000`` (nginx on the same host), or ``WEB_BIND``, one address or
  several separated by commas (a web host behind HAProxy listens on its private address,
  ``WEB_BIND=10.0.0.11:8000``; one behind nginx that Prometheus scrapes from another host,
  on both: ``WEB_BIND=127.0.0.1:8000,10.0.0.11:8000``).
- ``workers``: 2 × CPUs + 1, or ``WEB_CONCURRENCY``.
- ``timeout``: a worker silent for 30 s (``WEB_TIMEOUT``) is killed and replaced. Its
  PostgreSQL statements are cancelled 5 s before (``DB_STATEMENT_TIMEOUT_SECONDS``, unless
  set): the request is answered, its transaction ends and the server stops working on it.
- ``preload_app``: the master loads the app once and each worker is forked from it, with
  the database pools forgotten (``tracker.db.after_fork``) so that it opens connections of
  its own. Loading the app takes about 1.5 s of CPU; a worker that loaded it itself after
  every thousand requests spent more time loading than answering under load. A reload
  (``HUP``) forks new workers from the loaded code: an upgrade restarts the service.
- ``max_requests`` with jitter: each worker is replaced after about a thousand requests, not
  all at once, so that slow leaks never add up.
- The access log goes to standard output with receipt numbers masked (the app installs its
  masking filter on ``gunicorn.access``); with ``LOG_FORMAT=json`` the app writes one JSON
  line per request itself, and gunicorn's access log is off.
- Metrics: ``prometheus_client``'s multiprocess mode. ``PROMETHEUS_MULTIPROC_DIR`` (made in
  the temporary directory when unset) is emptied when the server starts, and a worker that
  exits is marked dead.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
if not os.environ.get(MULTIPROCESS_DIR):
    # Set before any worker imports prometheus_client, which reads it once.
    os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="siapambil-metrics-")

# One address or several, separated by commas: with nginx on the host, loopback for it and
# the host's private address for Prometheus (WEB_BIND=127.0.0.1:8000,10.0.0.11:8000).
bind = (os.environ.get("WEB_BIND") or "127.0.0.1:8000").replace(",", " ").split()
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
# A statement of a web worker is cancelled before the worker would be killed for it: the
# request is answered (503), its transaction rolled back, its locks freed, and the server
# stops working on it (a killed worker's statement would run on to its end).
STATEMENT_KEY = "DB_STATEMENT_TIMEOUT_SECONDS"
if not os.environ.get(STATEMENT_KEY) and not os.environ.get("SIAPAMBIL_" + STATEMENT_KEY):
    os.environ[STATEMENT_KEY] = str(max(timeout - 5, 1))
graceful_timeout = 30
keepalive = 5
preload_app = True
max_requests = 1000
max_requests_jitter = 100
json_logs = os.environ.get("SIAPAMBIL_LOG_FORMAT", os.environ.get("LOG_FORMAT", "")) == "json"
accesslog = None if json_logs else "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# gunicorn 26 and later open a control socket under $HOME. The unit's home is read-only
# (ProtectSystem=strict), which logs an error at every start, and nothing here uses it.
control_socket_disable = True


def on_starting(_server: object) -> None:
    """Empty the metrics directory: the values of an earlier run are not this run's."""
    directory = Path(os.environ[MULTIPROCESS_DIR])
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def when_ready(server: object) -> None:
    """The app is loaded (``preload_app``): compile its templates and load its catalogues once,
    here, for every worker to inherit."""
    if server.cfg.preload_app and "tracker" in sys.modules:  # type: ignore[attr-defined]
        sys.modules["tracker"].warm(server.app.wsgi())  # type: ignore[attr-defined]


def pre_fork(_server: object, _worker: object) -> None:
    """Move everything the master holds (the loaded app) out of the garbage collector's reach
    before each fork, as Python's ``gc.freeze`` advises: a worker's collections no longer walk
    (and so copy) the master's objects, and a worker that exits frees its own alone. In a
    test, a worker forked after ``gc.freeze`` answered 200 status pages in 0.16 s instead of
    0.27 s, and exited in 0.07 s instead of 0.35 s."""
    gc.freeze()


def post_fork(_server: object, _worker: object) -> None:
    """The master's connections (the app read the leave days as it loaded) are not the
    worker's."""
    if "tracker.db" in sys.modules:  # not for another app served with this file
        sys.modules["tracker.db"].after_fork()


def child_exit(_server: object, worker: object) -> None:
    """A worker that exits no longer counts in the live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
