"""The layers hold. import-linter checks the contracts of ``.importlinter`` (`make lint` runs it, and
the first test below runs it too, so that ``pytest`` fails on a broken contract):

models ← notifications | documents ← services ← tasks ← flows | migrations ← deployments ← cli | demo;
models import no Prefect, no mail and no other package of the project; documents (the acts as PDF)
see neither Prefect nor a database nor mail; notifications know no service; production code never
imports the demo; inside ``services`` only ``services/engine/prefect_api.py`` talks to Prefect; the
wings of ``services`` are independent of each other and its packages form no cycle.

What import-linter cannot say is read here with ``ast`` (imports inside functions included): no
status is assigned outside the state machines of ``models``, and the root modules ``settings.py``,
``liveness.py`` and ``faults.py`` (grimp reads packages only) import nothing of the project.
"""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
PACKAGES = (
    "models",
    "notifications",
    "documents",
    "services",
    "tasks",
    "flows",
    "deployments",
    "cli",
    "migrations",
    "demo",
)
ROOT_MODULES = ("settings", "liveness", "faults")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file, for every module of the project's packages and root modules."""
    found = {}
    for name in ROOT_MODULES:
        if (root / f"{name}.py").exists():
            found[name] = root / f"{name}.py"
    for package in PACKAGES:
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


def root_module_imports(root: Path = ROOT) -> list[str]:
    """What the root modules import of the project: nothing (they sit below every package)."""
    project = {*PACKAGES, *ROOT_MODULES}
    found = modules(root)
    return [
        f"{name} imports {n}"
        for name in ROOT_MODULES
        if name in found
        for n in sorted(imports(name, found[name]))
        if top(n) in project and top(n) != name
    ]


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


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache", "--no-logo"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def contracts(config: configparser.ConfigParser) -> list[str]:
    return [s for s in config.sections() if s.startswith("importlinter:contract:")]


def test_the_project_keeps_every_import_contract():
    result = lint_imports(ROOT, CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    count = len(contracts(_read(CONFIG)))
    assert f"Contracts: {count} kept, 0 broken." in result.stdout, result.stdout


def test_the_contracts_cover_every_package_of_the_project():
    config = _read(CONFIG)
    assert set(config["importlinter"]["root_packages"].split()) == set(PACKAGES)
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert on_disk == set(PACKAGES)
    assert {top(m) for m in modules()} == {*PACKAGES, *ROOT_MODULES}
    layers = [line.strip() for line in config["importlinter:contract:layers"]["layers"].strip().splitlines()]
    layered = {name.strip() for layer in layers for name in layer.split("|")}
    assert layered == set(PACKAGES)  # every package has its layer: no cycle between packages


def test_the_root_modules_import_nothing_of_the_project():
    assert root_module_imports() == []


def test_only_the_state_machines_assign_a_status():
    assert status_writes() == []


def _read(path: Path) -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(path, encoding="utf-8")
    return config


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(tmp_path).parents:
            if parent != Path(".") and not (tmp_path / parent / "__init__.py").exists():
                (tmp_path / parent / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_each_contract_catches_its_kind_of_offence(tmp_path):
    root = _tree(
        tmp_path,
        {
            "models/rule.py": "import prefect\n",
            "documents/render.py": "def f():\n    import sqlmodel\n",
            "notifications/sender.py": "from services import db\n",
            "services/db.py": "from services import registry\n",
            "services/registry.py": "def f():\n    from services import db\n",
            "services/engine/steps.py": "from tasks import runs\n",
            "services/ctai/flowy.py": "from prefect import flow\n",
            "services/ptai/records.py": "from services.pilotage import texts\n",
            "services/pilotage/texts.py": "",
            "tasks/runs.py": "",
            "cli/main.py": "from demo import data\n",
            "demo/data.py": "",
        },
    )
    config = _read(CONFIG)
    for wing in config["importlinter:contract:services-wings"]["modules"].split():
        _tree(root, {f"{wing.replace('.', '/')}/__init__.py": ""})
    for section in contracts(config):  # the to-go lines name modules this small tree has not
        if "ignore_imports" in config[section]:
            config[section]["unmatched_ignore_imports_alerting"] = "none"
    with open(root / ".importlinter", "w", encoding="utf-8") as out:
        config.write(out)
    result = lint_imports(root, root / ".importlinter")
    assert result.returncode != 0
    assert f"Contracts: 0 kept, {len(contracts(config))} broken." in result.stdout, result.stdout
    for expected in (
        "models.rule -> prefect",
        "documents.render -> sqlmodel",
        "notifications.sender -> services.db",
        "services.engine.steps -> tasks.runs",
        "services.ctai.flowy -> prefect",
        "services.ptai.records -> services.pilotage.texts",
        "cli.main -> demo.data",
    ):
        assert expected in result.stdout, expected


def test_the_hand_checks_catch_what_import_linter_cannot_say(tmp_path):
    root = _tree(
        tmp_path,
        {
            "settings.py": "from models import money\n",
            "liveness.py": "def f():\n    import demo.data\n",
            "faults.py": "import sqlalchemy\n",
            "services/ctai/handlers.py": "def h(case):\n    case.status = 'signed'\n",
            "services/finance/lots.py": "update(R).values(status='x')\n",
            "models/machine.py": "def apply(case):\n    case.status = 'signed'\n",
        },
    )
    assert root_module_imports(root) == [
        "settings imports models",
        "settings imports models.money",
        "liveness imports demo.data",
    ]
    writes = status_writes(root)
    assert len(writes) == 2
    assert any("services.ctai.handlers:2" in w for w in writes) and any("services.finance.lots:1" in w for w in writes)
