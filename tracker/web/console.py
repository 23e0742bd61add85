"""The staff console's blueprint (``/staff/...``). Each feature package adds its console
views to it (``<feature>/views.py``); every view needs a signed-in account, and what it may
see and change follows its role and office (``tracker.accounts.access``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
