"""Cross-origin reads of the public API, for an office's website or app that asks from the
citizen's browser (a status box on the regency's site, a map of pickup points, a lobby board
of its own): the public routes that read, and only they, answer any origin in
``PUBLIC_API_ORIGINS`` (``*`` by default; empty: none) with Flask-CORS.

What they carry is public already (no personal data, no cookie is read or sent: credentials
are never allowed), so a page elsewhere may read it as anyone may. The console, the writes,
a bridge's list of changes and the providers' webhooks name no origin: a browser on another
site cannot read them, nor send them a key (``Authorization`` is not an allowed header). A
board polls with ``If-None-Match`` and reads the ``ETag``, so both are allowed and exposed;
a preflight is kept by the browser for an hour.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_cors import CORS

from tracker.config import parse_list

# The public routes that read, by their whole path (matched from the start; ``$`` ends each).
PUBLIC_READS = (
    r"/api/v1/requests/[^/]+$",
    r"/api/v1/points$",
    r"/api/v1/points/[^/]+/board$",
    r"/api/v1/announcements$",
    r"/api/v1/openapi\.json$",
    r"/open311/v2/(discovery|services|requests)\.(json|xml)$",
    r"/open311/v2/requests/[^/]+\.(json|xml)$",
)
ALLOWED_HEADERS = ["Accept", "Accept-Language", "If-None-Match", "X-Request-ID"]
EXPOSED_HEADERS = ["ETag", "Retry-After", "X-Request-ID", "Content-Language"]
PREFLIGHT_KEPT_SECONDS = 3600


def install(app: Flask) -> None:
    origins = app.config["PUBLIC_API_ORIGINS"]
    if isinstance(origins, str):
        origins = parse_list(origins)
    if not origins:
        return
    options = {
        "origins": origins,
        "methods": ["GET", "HEAD"],
        "allow_headers": ALLOWED_HEADERS,
        "expose_headers": EXPOSED_HEADERS,
        "supports_credentials": False,
        "send_wildcard": origins == ["*"],
        "max_age": PREFLIGHT_KEPT_SECONDS,
        "vary_header": True,
    }
    CORS(app, resources={f"^{path}": options for path in PUBLIC_READS})
    if origins != ["*"]:
        # Whether the answer names the origin depends on the origin: a shared cache must
        # keep one answer per origin (Flask-CORS says so only when several origins are named).
        reads = [re.compile(f"^{path}") for path in PUBLIC_READS]

        @app.after_request
        def vary_by_origin(response: Response) -> Response:
            if any(read.match(request.path) for read in reads):
                response.vary.add("Origin")
            return response
