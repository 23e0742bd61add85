"""The map stays true to the house: every step ARCHITECTURE.md traces exists, every package
is named there and in the README's layout, and the flow goes one way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP = re.compile(r"`((?:tracker|jobs)/[\w/]+\.py):([\w.]+)`")


def defined(path: Path, dotted: str) -> bool:
    """Whether ``path`` defines ``name`` or ``Class.method`` at its top level."""
    if not path.is_file():
        return False
    scope: list[ast.stmt] = ast.parse(path.read_text()).body
    *outer, last = dotted.split(".")
    for name in outer:
        found = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == name]
        if not found:
            return False
        scope = found[0].body
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(n, kinds) and n.name == last for n in scope)


def missing_steps(text: str) -> list[str]:
    return [f"{file}:{name}" for file, name in STEP.findall(text) if not defined(ROOT / file, name)]


def packages() -> list[str]:
    return sorted(
        p.parent.name for p in (ROOT / "tracker").glob("*/__init__.py") if p.parent.is_dir()
    )


def test_every_traced_step_exists() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    steps = STEP.findall(text)
    assert len(steps) >= 20  # both paths, step by step
    assert missing_steps(text) == []
    # Control: a step that is not in the code is reported.
    made_up = "`tracker/requests/operations.py:teleport` and `tracker/nowhere.py:move`"
    assert missing_steps(made_up) == [
        "tracker/requests/operations.py:teleport",
        "tracker/nowhere.py:move",
    ]


def test_every_package_is_named_in_the_architecture_and_the_readme() -> None:
    architecture = (ROOT / "ARCHITECTURE.md").read_text()
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    assert len(packages()) >= 12
    for package in packages():
        assert f"tracker/{package}/" in architecture, package
        assert re.search(rf"^\s+{package}/", layout, re.M), package


def test_at_most_twelve_modules_lie_loose_in_tracker() -> None:
    loose = sorted(p.name for p in (ROOT / "tracker").glob("*.py"))
    assert len(loose) <= 12, loose


def imports_of(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def wrong_way(package: str, source: str) -> list[str]:
    """Imports that go against the flow: of ``jobs``, or of another package's views."""
    return [
        name
        for name in imports_of(source)
        if name == "jobs"
        or name.startswith("jobs.")
        or (re.fullmatch(r"tracker\.(\w+)\.views", name) and name.split(".")[1] != package)
    ]


def test_the_flow_goes_one_way() -> None:
    found = {}
    for path in (ROOT / "tracker").rglob("*.py"):
        if path == ROOT / "tracker" / "__init__.py":
            continue  # create_app registers every blueprint
        relative = path.relative_to(ROOT / "tracker").parts
        package = relative[0] if len(relative) > 1 else ""
        if bad := wrong_way(package, path.read_text()):
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}
    # Control: both kinds of wrong import are caught.
    assert wrong_way("counter", "from tracker.board import views\nfrom jobs import work\n") == [
        "tracker.board.views",
        "jobs",
        "jobs.work",
    ]


BASE = ("models", "db", "errors", "status", "receipts", "config", "extensions", "schema")


def layer_of(module: str) -> str | None:
    """``base``, ``web`` or the feature package a ``tracker`` module belongs to."""
    parts = module.split(".")
    if parts[0] != "tracker" or len(parts) < 2:
        return None
    return "base" if parts[1] in BASE else parts[1]


def reaches_up(layer: str, source: str) -> list[str]:
    """What a module of ``layer`` imports from above it: the base imports only the base; what
    every page shares (``web``) imports only the base and itself."""
    allowed = {"base"} if layer == "base" else {"base", "web"}
    return [
        name
        for name in imports_of(source)
        if layer_of(name) is not None
        and layer_of(name) not in allowed
        and not (name == "tracker" or name.startswith("tracker.__"))
    ]


def test_the_base_and_the_shared_web_modules_know_no_feature() -> None:
    found = {}
    for path in (ROOT / "tracker").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        layer = layer_of(module)
        if layer not in ("base", "web") or path.name == "__init__.py" and layer == "base":
            continue
        if bad := reaches_up(layer, path.read_text()):
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}
    # Control: a model that imports a feature, and a shared module that imports one, are caught.
    assert reaches_up("base", "from tracker.requests import workflow\n") == [
        "tracker.requests",
        "tracker.requests.workflow",
    ]
    assert reaches_up("web", "from tracker.accounts.scope import Scope\n") == [
        "tracker.accounts.scope",
        "tracker.accounts.scope.Scope",
    ]
