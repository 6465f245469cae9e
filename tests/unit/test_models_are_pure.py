"""Business rules stay pure: models/ imports no Prefect, no session machinery, no SMTP."""

import ast
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models"
FORBIDDEN = ("prefect", "aiosmtplib", "smtplib", "services", "tasks", "flows", "notifications", "httpx")


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


def test_models_import_neither_prefect_nor_sessions_nor_smtp():
    offenders = {}
    for path in MODELS.glob("*.py"):
        bad = {
            n
            for n in _imports(path)
            if n.split(".")[0] in FORBIDDEN
            or n.endswith(".Session")
            or n in {"sqlmodel.Session", "sqlalchemy.orm.Session", "sqlmodel.create_engine"}
        }
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_the_purity_check_would_catch_a_session_import(tmp_path):
    fake = tmp_path / "bad.py"
    fake.write_text("from sqlmodel import Session\nimport prefect\n")
    assert {"sqlmodel.Session", "prefect"} <= _imports(fake)
