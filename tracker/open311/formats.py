"""A GeoReport document written as JSON or as XML, as the address's extension asks.

XML is written with the standard library's ElementTree, which escapes ``<``, ``&`` and
quotes; characters XML cannot carry at all (C0 and C1 controls but tab and line breaks, and
U+FFFE, U+FFFF), which staff text written before the edge refused them may hold, are
dropped (``tracker.web.edge.without_controls``), so every answer stays well formed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from flask import Response

from tracker.web.edge import without_controls

JSON = "json"
XML = "xml"
MEDIA_TYPES = {JSON: "application/json", XML: "application/xml"}
# The element of each item of a list, by the list's own element.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}


def answer(document: Any, root: str, fmt: str, status: int = 200) -> Response:
    """The document as a response in ``fmt``; ``root`` names the XML's root element."""
    if fmt == XML:
        body = as_xml(document, root)
    else:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status, mimetype=MEDIA_TYPES[fmt])


def as_xml(document: Any, root: str) -> bytes:
    """The document under one root element, UTF-8 with its declaration."""
    element = ET.Element(root)
    _fill(element, document)
    return ET.tostring(element, encoding="UTF-8", xml_declaration=True)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            _fill(ET.SubElement(element, name), inner)
    elif isinstance(value, list):
        for inner in value:
            _fill(ET.SubElement(element, ITEMS[element.tag]), inner)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = without_controls(str(value))
