"""Scheduled jobs: ``scheduler.py`` says when each runs (its own process), ``work.py`` what
each does (a thin call into the operations), ``runner.py`` how one run goes (its lease and
unit of work)."""
