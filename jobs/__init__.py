"""Scheduled jobs, each in its own module, run by ``jobs/scheduler.py`` in its own process."""
