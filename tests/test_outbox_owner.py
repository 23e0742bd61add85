"""The outbox has an owner: no module of the product but ``tracker/outbox/operations.py``
sets a message's state, by assignment, by a message made in a state, or by an UPDATE (as
the audit trail's test finds every commit, by walking the syntax trees)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OWNER = "tracker/outbox/operations.py"
OUTBOX_NAMES = {"OutboxMessage", "OutboxStatus"}
RAW_UPDATE = re.compile(r"\bupdate\s+\"?outbox\"?\s.*\bstatus\b", re.IGNORECASE | re.DOTALL)


def _names(node: ast.AST) -> set[str]:
    """Every name and attribute named in ``node``."""
    found = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Name):
            found.add(part.id)
        elif isinstance(part, ast.Attribute):
            found.add(part.attr)
    return found


def _sets_status(call: ast.Call) -> bool:
    """A ``.values(...)``/``.update(...)`` that sets ``status``, or whose keys cannot be told."""
    if any(keyword.arg in (None, "status") for keyword in call.keywords):
        return True
    for argument in call.args:
        if not isinstance(argument, ast.Dict):
            return True
        for key in argument.keys:
            if key is None or "status" in _names(key) or getattr(key, "value", None) == "status":
                return True
    return False


def _is_outbox_update(call: ast.Call) -> bool:
    """``update(OutboxMessage)``, ``OutboxMessage.__table__.update()``, ``query(...).update``."""
    function = call.func
    if isinstance(function, ast.Name) and function.id == "update":
        return bool(call.args) and "OutboxMessage" in _names(call.args[0])
    return (
        isinstance(function, ast.Attribute)
        and function.attr == "update"
        and "OutboxMessage" in _names(function.value)
    )


def _setters(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> list[ast.Call]:
    """What gives an UPDATE its values: ``.values(...)`` further along its chain, or the
    arguments of a query's ``.update({...})``."""
    setters = [call] if isinstance(call.func, ast.Attribute) and call.args else []
    above = parents.get(call)
    while isinstance(above, ast.Attribute | ast.Call):
        if isinstance(above, ast.Call) and getattr(above.func, "attr", "") == "values":
            setters.append(above)
        above = parents.get(above)
    return setters


def _sets_state(node: ast.AST, parents: dict[ast.AST, ast.AST], names_outbox: bool) -> str:
    """What kind of change of a message's state ``node`` is, or ``""``."""
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value if node.value is not None else ast.Constant(None)
        if "status" in {
            a.attr for t in targets for a in ast.walk(t) if isinstance(a, ast.Attribute)
        }:
            return "assign" if names_outbox or "OutboxStatus" in _names(value) else ""
    elif isinstance(node, ast.Call):
        function = getattr(node.func, "id", "")
        if _is_outbox_update(node):
            setters = _setters(node, parents)
            return "update" if not setters or any(map(_sets_status, setters)) else ""
        if function == "setattr" and names_outbox and len(node.args) > 1:
            return "setattr" if getattr(node.args[1], "value", None) == "status" else ""
        if function == "OutboxMessage":
            return "new" if any(k.arg in (None, "status") for k in node.keywords) else ""
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        return "sql" if RAW_UPDATE.search(node.value) else ""
    return ""


def state_changes(source: str) -> list[str]:
    """Where a module sets an outbox message's state: ``x.status = ...`` in a module that
    names the outbox's model or states (or with an OutboxStatus value), ``setattr(x,
    "status", ...)`` there, a message made with a ``status``, an UPDATE of the outbox that
    sets it (or whose values come at execution), and SQL text that does."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    names_outbox = bool(OUTBOX_NAMES & _names(tree))
    found = []
    for node in ast.walk(tree):
        if kind := _sets_state(node, parents, names_outbox):
            found.append(f"{kind}:{node.lineno}")  # type: ignore[attr-defined]
    return found


def outbox_state_changes() -> dict[str, list[str]]:
    """Every place in the product (``tracker/``, ``jobs/``) that sets a message's state."""
    found = {}
    for folder in ("tracker", "jobs"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if changes := state_changes(path.read_text()):
                found[str(path.relative_to(ROOT))] = changes
    return found


def test_only_the_outbox_s_operations_set_a_message_s_state() -> None:
    found = outbox_state_changes()
    assert set(found) == {OWNER}, found
    # Control: the walk finds what operations.py does: an assignment (a move of one
    # message), a message made in its first state (queue) and an UPDATE (the bulk moves).
    kinds = {change.split(":")[0] for change in found[OWNER]}
    assert kinds == {"assign", "new", "update"}, found[OWNER]


@pytest.mark.parametrize(
    "source",
    [
        # How the console, announce, the dispatcher and opt-out set the state before.
        "message.status = OutboxStatus.PENDING",
        "m.status, m.attempts = OutboxStatus.PENDING, 0",
        "session.execute(update(OutboxMessage).where(OutboxMessage.request_id.in_(c))"
        ".values(status=OutboxStatus.PENDING, next_attempt_at=now))",
        "session.execute(update(OutboxMessage).values(**changes))",
        "session.execute(update(OutboxMessage), [{'id': 1, 'status': 'sent'}])",
        "session.query(OutboxMessage).filter_by(id=1).update({OutboxMessage.status: 'sent'})",
        "session.add(OutboxMessage(request_id=1, status=OutboxStatus.HELD))",
        "setattr(message, 'status', OutboxStatus.SENT); OutboxMessage",
        "session.execute(text(\"UPDATE outbox SET status = 'dead' WHERE id = 1\"))",
    ],
)
def test_the_walk_finds_each_way_of_setting_the_state(source: str) -> None:
    assert state_changes(source)


@pytest.mark.parametrize(
    "source",
    [
        "request.status = Status.READY",  # a request's, in a module that does not name the outbox
        "session.execute(update(OutboxMessage).values(recipient='', body=''))",
        "session.execute(update(Request).values(status='ready'))",
        "select(OutboxMessage.status).where(OutboxMessage.status == OutboxStatus.DEAD)",
    ],
)
def test_the_walk_leaves_what_does_not_set_a_message_s_state(source: str) -> None:
    assert not state_changes(source)
