"""What the benchmark scripts share: running a ``flask --app wsgi`` command on a database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def flask(database: Path, *args: str, stdin: str | None = None) -> None:
    """``flask --app wsgi ARGS`` on the SQLite file ``database``, its output dropped."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench"}
    command = [sys.executable, "-m", "flask", "--app", str(ROOT / "wsgi.py"), *args]
    subprocess.run(command, env=env, check=True, input=stdin, text=True, stdout=subprocess.DEVNULL)
