"""Setting up a real office from one declarative file: ``setup load FILE.yaml`` validates the
file against ``schema`` (every problem, with its path), then ``load`` upserts offices,
services, pickup points (hours and counters) and the collective leave days by code, in one
unit of work, with one audit row; ``commands`` is the ``flask setup`` group."""
