"""Business rules stay pure: models/ imports no Prefect, no SMTP and no other package of the project
(import-linter's contract ``models-are-pure`` in ``.importlinter``), and takes no session or engine of
its own, which this test reads: a class is not a module, import-linter cannot name it."""

import ast
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models"
SESSION_MACHINERY = {
    "sqlmodel.Session",
    "sqlalchemy.orm.Session",
    "sqlmodel.create_engine",
    "sqlalchemy.create_engine",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _session_imports(path: Path) -> set[str]:
    return {n for n in _imports(path) if n.endswith(".Session") or n in SESSION_MACHINERY}


def test_models_take_neither_a_session_nor_an_engine():
    files = sorted(MODELS.rglob("*.py"))
    assert len(files) > 10
    offenders = {path.name: bad for path in files if (bad := _session_imports(path))}
    assert offenders == {}


def test_the_purity_check_would_catch_a_session_import(tmp_path):
    fake = tmp_path / "bad.py"
    fake.write_text("from sqlmodel import Session\ndef f():\n    from sqlalchemy import create_engine\n")
    assert _session_imports(fake) == {"sqlmodel.Session", "sqlalchemy.create_engine"}
