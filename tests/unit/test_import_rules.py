"""The layers hold: every module's imports are read with ``ast`` (imports inside functions
included) and checked against the project's rules.

models ← notifications ← services ← tasks ← flows ← deployments and cli; ``documents`` (the legal
acts as PDF) sits beside notifications and sees only models and settings, neither Prefect nor a
database; the demo sits on top and nothing of production imports it; only
``services/engine/prefect_api.py`` talks to Prefect inside ``services``; the wings of
``services`` form no cycle; and no status is assigned outside the state machines of ``models``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = (
    "models",
    "notifications",
    "documents",
    "services",
    "tasks",
    "flows",
    "deployments",
    "cli",
    "migrations",
    "settings",
    "liveness",
    "faults",
)
DOCUMENTS_MAY_IMPORT = {"documents", "models", "settings"}
NO_IO_FOR_DOCUMENTS = {
    "prefect",
    "aiosmtplib",
    "smtplib",
    "httpx",
    "requests",
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "asyncpg",
}
PACKAGES = (*PRODUCTION, "demo")
PREFECT_DOOR = "services.engine.prefect_api"


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file, for every module of the project's packages."""
    found = {}
    for package in PACKAGES:
        if (root / f"{package}.py").exists():
            found[package] = root / f"{package}.py"
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(module: str, path: Path) -> set[str]:
    """Every name imported, as dotted paths (``from a import b`` gives ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names |= {f"{base}.{a.name}" for a in node.names}
    return names


def top(name: str) -> str:
    return name.split(".")[0]


def package_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of a directed graph (one per strongly connected group of two or more)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def violations(root: Path = ROOT) -> list[str]:
    found = modules(root)
    project = {top(m) for m in found}
    problems = []
    packages: dict[str, set[str]] = {}
    wings: dict[str, set[str]] = {}
    for module, path in found.items():
        names = imports(module, path)
        here = top(module)
        ours = {n for n in names if top(n) in project}
        packages.setdefault(here, set()).update(top(n) for n in ours if top(n) != here)
        if here == "models":
            bad = {
                n
                for n in names
                if (top(n) in project and top(n) != "models")
                or top(n) in {"prefect", "aiosmtplib", "smtplib", "httpx"}
                or n
                in {"sqlmodel.Session", "sqlalchemy.orm.Session", "sqlmodel.create_engine", "sqlalchemy.create_engine"}
            }
            problems += [f"{module} (models) imports {n}" for n in sorted(bad)]
        if here == "services":
            problems += [
                f"{module} (services) imports {n}"
                for n in sorted(ours)
                if top(n) in {"flows", "tasks", "cli", "deployments"}
            ]
            if module != PREFECT_DOOR:
                problems += [
                    f"{module} imports {n}: only {PREFECT_DOOR} talks to Prefect"
                    for n in sorted(names)
                    if top(n) == "prefect"
                ]
            wing = module.split(".")[1] if module.count(".") >= 1 else "services"
            wings.setdefault(wing, set()).update(
                n.split(".")[1]
                for n in ours
                if top(n) == "services"
                and n.count(".") >= 1
                and n.split(".")[1] != wing
                and f"services.{n.split('.')[1]}" in found
            )
        if here == "notifications":
            problems += [
                f"{module} (notifications) imports {n}"
                for n in sorted(ours)
                if top(n) in {"services", "tasks", "flows", "cli"}
            ]
        if here == "documents":
            problems += [
                f"{module} (documents) imports {n}"
                for n in sorted(names)
                if (top(n) in project and top(n) not in DOCUMENTS_MAY_IMPORT) or top(n) in NO_IO_FOR_DOCUMENTS
            ]
        if here == "tasks":
            problems += [
                f"{module} (tasks) imports {n}" for n in sorted(ours) if top(n) in {"flows", "cli", "deployments"}
            ]
        if here in PRODUCTION:
            problems += [f"{module} (production code) imports {n}" for n in sorted(ours) if top(n) == "demo"]
    problems += [f"cycle between packages: {' ↔ '.join(c)}" for c in package_cycles(packages)]
    problems += [f"cycle between the wings of services: {' ↔ '.join(c)}" for c in package_cycles(wings)]
    return problems


def status_writes(root: Path = ROOT) -> list[str]:
    """``x.status = …`` or ``.values(status=…)`` outside models: a status changed without its
    state machine."""
    out = []
    for module, path in modules(root).items():
        if top(module) in {"models", "notifications", "migrations"}:  # the machines; the outbox's own delivery states
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AugAssign | ast.AnnAssign)
                else []
            )
            for target in targets:
                for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(t, ast.Attribute) and t.attr == "status":
                        out.append(f"{module}:{node.lineno} assigns .status")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "values"
                and any(k.arg == "status" for k in node.keywords)
            ):
                out.append(f"{module}:{node.lineno} sets status in a bulk UPDATE")
    return out


def test_the_project_follows_its_import_rules():
    assert violations() == []


def test_only_the_state_machines_assign_a_status():
    assert status_writes() == []


def test_the_rules_see_every_package_and_the_prefect_door():
    found = modules()
    assert {top(m) for m in found} == set(PACKAGES)
    assert PREFECT_DOOR in found and "prefect.deployments.flow_runs" in imports(PREFECT_DOOR, found[PREFECT_DOOR])


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in PACKAGES:
        if not (tmp_path / f"{package}.py").exists():
            (tmp_path / package).mkdir(exist_ok=True)
            (tmp_path / package / "__init__.py").touch()
    return tmp_path


def test_the_rules_would_catch_each_kind_of_offence(tmp_path):
    root = _tree(
        tmp_path,
        {
            "models/rule.py": "from sqlmodel import Session\nimport prefect\nfrom services import db\n",
            "services/engine/__init__.py": "",
            "services/engine/steps.py": "from services.ctai import texts\n",
            "services/ctai/__init__.py": "",
            "services/ctai/texts.py": "def f():\n    from services.engine import steps\n",
            "services/ctai/flowy.py": "from prefect import flow\nfrom tasks import notify\nimport demo.data\n",
            "notifications/sender.py": "from services.db import unit_of_work\n",
            "documents/render.py": "from models.money import format_eur\nfrom notifications import outbox\nimport sqlmodel\n",
            "services/engine/mail.py": "from notifications import outbox\n",
            "tasks/runs.py": "from flows.steps import FLOW_NAMES\n",
            "cli/main.py": "from demo.data import seed_demo\n",
            "services/ctai/handlers.py": "def h(case):\n    case.status = 'signed'\n",
            "services/finance/__init__.py": "",
            "services/finance/lots.py": "update(R).values(status='x')\n",
        },
    )
    found = "\n".join(violations(root))
    for expected in (
        "services.db",
        "models) imports prefect",
        "models) imports sqlmodel.Session",
        "only services.engine.prefect_api talks to Prefect",
        "(services) imports tasks",
        "(notifications) imports services.db",
        "(tasks) imports flows.steps",
        "documents.render (documents) imports notifications.outbox",
        "documents.render (documents) imports sqlmodel",
        "cli.main (production code) imports demo.data",
        "services.ctai.flowy (production code) imports demo",
        "cycle between the wings of services: ctai ↔ engine",
        "cycle between packages: notifications ↔ services",
    ):
        assert expected in found, expected
    writes = status_writes(root)
    assert any("services.ctai.handlers:2" in w for w in writes) and any("services.finance.lots:1" in w for w in writes)
