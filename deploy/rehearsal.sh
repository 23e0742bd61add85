#!/usr/bin/env bash
# The rehearsal on several hosts (root only): deploy/rehearsal.sh --short, or without it for
# the 10-minute run. Everything is in deploy/rehearsal.py, which tears down what it built
# even when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python deploy/rehearsal.py "$@"
