"""What the benchmark scripts share: running a ``flask --app wsgi`` command on a database, and
finding the database that ``bench/lookup.py --keep`` filled."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What bench/lookup.py fills (and leaves, with --keep), on each database.
FILLED_SQLITE = ROOT / "bench" / "results" / "lookup" / "bench.sqlite"
FILLED_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/siapambil_bench_lookup"


def filled_arguments(parser: argparse.ArgumentParser) -> None:
    """``--database`` and ``--postgres-url``: which filled database a script works on."""
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=FILLED_POSTGRES)


def filled_url(args: argparse.Namespace) -> str:
    """The URL of the filled database the arguments name; this repository made importable,
    and SECRET_KEY set, for a script that builds the app in process."""
    if args.database == "sqlite" and not FILLED_SQLITE.exists():
        raise SystemExit(f"{FILLED_SQLITE} is missing: run bench/lookup.py --keep first")
    os.environ.setdefault("SECRET_KEY", "bench")
    sys.path.insert(0, str(ROOT))
    return args.postgres_url if args.database == "postgresql" else f"sqlite:///{FILLED_SQLITE}"


def flask(database: Path, *args: str, stdin: str | None = None) -> None:
    """``flask --app wsgi ARGS`` on the SQLite file ``database``, its output dropped."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench"}
    command = [sys.executable, "-m", "flask", "--app", str(ROOT / "wsgi.py"), *args]
    subprocess.run(command, env=env, check=True, input=stdin, text=True, stdout=subprocess.DEVNULL)
