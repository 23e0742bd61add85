"""The API's contract: ``openapi.yaml`` beside this file, written by hand (spec-first), served
as JSON at ``/api/v1/openapi.json`` and as a readable page at ``/api/v1/docs``.

Request bodies are checked against the same document's schemas (``checked_body``): a body
that does not fit is a 422 in the API's error shape, naming the field. The tests check every
route's real answers against the response schemas, so the document says what the API does.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import request
from jsonschema import Draft202012Validator
from markupsafe import Markup, escape
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tracker.errors import BodyInvalid, FieldRefused
from tracker.web.edge import CONTROL, CONTROL_BUT_LINES

SPEC_FILE = Path(__file__).with_name("openapi.yaml")
SPEC_URI = "urn:siapambil:openapi"


@cache
def spec() -> dict[str, Any]:
    """The contract, read once per process."""
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


@cache
def spec_json() -> bytes:
    return json.dumps(spec(), ensure_ascii=False, separators=(",", ":")).encode()


@cache
def registry() -> Registry:
    """The document as a JSON Schema resource, so that ``$ref: '#/components/...'`` resolves."""
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def validator(schema: dict[str, Any] | str) -> Draft202012Validator:
    """A validator of a schema of the contract (given by its name under
    ``components/schemas``) or of a schema given whole."""
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return Draft202012Validator(anchored(schema), registry=registry())


def anchored(node: Any) -> Any:
    """A schema taken out of the document, its ``$ref: '#/...'`` made to point into it."""
    if isinstance(node, dict):
        return {
            key: (SPEC_URI + value if key == "$ref" and value.startswith("#") else anchored(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [anchored(item) for item in node]
    return node


def _errors(schema: dict[str, Any] | str, data: Any) -> list[Any]:
    return sorted(validator(schema).iter_errors(data), key=lambda e: list(e.path))


def _field(error: Any) -> str:
    """The path of the field an error is about: the one missing, or the one not expected."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path = ".".join(p for p in (path, missing) if p)
    elif error.validator == "additionalProperties" and "'" in error.message:
        extra = error.message.split("'")[1]
        path = ".".join(p for p in (path, extra) if p)
    return path


def problems(schema: dict[str, Any] | str, data: Any) -> list[tuple[str, str]]:
    """Every place where ``data`` does not fit, as (field path, what is wrong, in
    JSON Schema's English): for tests and tools; a caller is told by ``refusal``."""
    return [(_field(error), error.message) for error in _errors(schema, data)]


def refusal(error: Any) -> BodyInvalid:
    """The refusal of a body for one schema error: the field, and what the contract asks of
    it by kind (``reason``), for ``tracker.web.wording`` to say in the caller's language. The
    value sent is never repeated (a body may carry a NIK where a text was expected)."""
    field, kind, asked = _field(error), error.validator, error.validator_value
    simple = {
        "required": {"reason": "required"},
        "minLength": {"reason": "empty"},
        "minItems": {"reason": "empty"},
        "minProperties": {"reason": "empty"},
        "maxLength": {"reason": "too_long", "count": asked},
        "maxItems": {"reason": "too_long", "count": asked},
        "maxProperties": {"reason": "too_long", "count": asked},
        "const": {"reason": "enum", "choices": str(asked)},
        "pattern": {"reason": "pattern"},
        "format": {"reason": "pattern"},
        "uniqueItems": {"reason": "twice"},
    }
    if kind == "enum":
        return BodyInvalid(field=field, reason="enum", choices=", ".join(map(str, asked)))
    if kind == "additionalProperties":
        return BodyInvalid(field=field, reason="unknown")
    if kind == "type":
        kinds = [asked] if isinstance(asked, str) else list(asked)
        return BodyInvalid(field=field, reason="type", types=[k for k in kinds if k != "null"])
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = error.schema.get("minimum"), error.schema.get("maximum")
        return BodyInvalid(field=field, reason="range", low=low, high=high)
    return BodyInvalid(field=field, **simple.get(kind, {"reason": "invalid"}))


def checked_body(schema: dict[str, Any] | str, *, clean_text: bool = True) -> Any:
    """The request's JSON body, if it fits the schema and its texts can be stored; else 422
    naming the first field that does not (a body that is not JSON at all is told as such).

    JSON can carry what no form can: a lone surrogate (``"\\ud800"``), which no database
    or encoding takes, and control characters. A text with either is refused as the console
    refuses it (``tracker.web.edge.CleanText``): line breaks and tabs only in ``MULTILINE``
    fields. ``clean_text=False`` (a provider's webhook, carrying what citizens typed) refuses
    only the surrogates."""
    data = request.get_json(silent=True)
    if data is None:
        raise BodyInvalid(field="", reason="not_json")
    wrong = _errors(schema, data)
    if wrong:
        raise refusal(wrong[0])
    unstorable = first_unstorable(data, clean_text=clean_text)
    if unstorable is not None:
        field, rule = unstorable
        raise FieldRefused(field=field, rule=rule)
    return data


# The API's texts that may hold line breaks and tabs, as the console's notes and address do.
MULTILINE = frozenset({"public_note", "internal_note", "address"})
SURROGATE = re.compile(r"[\ud800-\udfff]")


def first_unstorable(
    data: Any, *, clean_text: bool = True, path: str = ""
) -> tuple[str, str] | None:
    """The first text of ``data`` (JSON, walked in order) that cannot be stored, as
    ``(field path, rule)``: ``surrogate``, or with ``clean_text`` ``control`` (a one-line
    field) or ``control_lines`` (a ``MULTILINE`` one); None when every text can."""
    if isinstance(data, str):
        if SURROGATE.search(data):
            return path, "surrogate"
        if not clean_text:
            return None
        multiline = path.rpartition(".")[2] in MULTILINE
        if (CONTROL_BUT_LINES if multiline else CONTROL).search(data):
            return path, "control_lines" if multiline else "control"
        return None
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None  # a number, true, false or null
    for key, value in items:
        if isinstance(key, str) and SURROGATE.search(key):
            return path, "surrogate"
        inner = f"{path}.{key}" if path else str(key)
        found = first_unstorable(value, clean_text=clean_text, path=inner)
        if found is not None:
            return found
    return None


def operations() -> list[dict[str, Any]]:
    """Every operation of the contract, in the document's order, for the docs page."""
    found = []
    for path, item in spec()["paths"].items():
        shared = [resolve(p) for p in item.get("parameters", [])]
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                operation = item[method]
                own = [resolve(p) for p in operation.get("parameters", ())]
                found.append(
                    {
                        **operation,
                        "path": path,
                        "method": method.upper(),
                        "parameters": shared + own,
                    }
                )
    return found


def resolve(node: Any) -> Any:
    """A ``$ref`` within the document followed (one level)."""
    if isinstance(node, dict) and "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return target
    return node


TICKS = re.compile(r"`([^`]+)`")


def with_code(text: str | None) -> Markup:
    """A description's text, escaped, with its `code spans` shown as code."""
    return Markup(TICKS.sub(r"<code>\1</code>", str(escape(text or ""))))
