"""One name per concept: the code names a concept in English, once.

The yearly review of a CTAI (``CtaiReview``, ``YEARLY_REVIEW``), the compte rendu financier
(``FinancialReport``, ``REPORT``, ``services.financial_report``) and the ministry's batch of
delegation (``DelegationBatch``, ``BATCH``) keep their French words — bilan, crf, lot — only where
they are data or user text: the stored step and entity names ("bilan", "crf", "lot"), the CLI's
command names (``ctai bilan``, ``crf transmettre``, ``lots liste``), the forms' published field names
(``bilan_actions``), the emails' context keys and the French messages. No production class,
function, module or module-level name uses them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "flows", "tasks", "models", "notifications", "deployments", "services", "documents", "demo")
ROOT_MODULES = ("settings.py", "liveness.py", "faults.py")

# The second names of a concept, as words of an identifier (``BilanForm``, ``crf_app``, ``LOTS``).
SECOND_NAMES = {"bilan": "yearly review", "bilans": "yearly review", "crf": "financial report", "lot": "batch"}
SECOND_NAMES |= {"crfs": "financial report", "lots": "batch"}

# Names that are data, not code: renaming them would change what Prefect has stored.
ALLOWED = {
    ("flows/ctai.py", "ctai_bilan"): "prefect.yaml's entrypoint flows/ctai.py:ctai_bilan (must not change)",
    ("flows/ctai.py", "ctai_bilan_signature"): "prefect.yaml's entrypoint flows/ctai.py:ctai_bilan_signature",
    ("flows/acts.py", "crf_examen"): "prefect.yaml's entrypoint flows/acts.py:crf_examen (must not change)",
}


def words(name: str) -> list[str]:
    """``CtaiActionBilan`` → ctai, action, bilan; ``check_bilan_proposal`` → check, bilan, proposal."""
    out = []
    for part in name.split("_"):
        out += [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", part)]
    return out


def production_files() -> list[Path]:
    files = [ROOT / m for m in ROOT_MODULES]
    for package in PACKAGES:
        files += sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)
    return files


def declared_names(path: Path) -> list[tuple[str, str]]:
    """The module's own name and its packages', then its classes, functions and module-level names."""
    relative = path.relative_to(ROOT)
    found = [("module", part.removesuffix(".py")) for part in relative.parts]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(("class" if isinstance(node, ast.ClassDef) else "function", node.name))
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        found += [("module-level name", t.id) for t in targets if isinstance(t, ast.Name)]
    return found


def test_no_production_class_function_or_module_uses_the_french_second_name_of_a_concept():
    offending = []
    allowed_seen = set()
    for path in production_files():
        relative = path.relative_to(ROOT).as_posix()
        for kind, name in declared_names(path):
            french = [w for w in words(name) if w in SECOND_NAMES]
            if not french:
                continue
            if (relative, name) in ALLOWED:
                allowed_seen.add((relative, name))
                continue
            offending.append(f"{relative}: {kind} {name} (say {SECOND_NAMES[french[0]]!r}, not {french[0]!r})")
    assert offending == [], "\n".join(offending)
    assert allowed_seen == set(ALLOWED), "an allowed exception no longer exists: remove it from ALLOWED"


def test_the_check_recognises_the_second_names_it_forbids():
    assert words("CtaiActionBilan") == ["ctai", "action", "bilan"]
    assert words("crf_app") == ["crf", "app"]
    assert words("LOTS_APP") == ["lots", "app"]
    assert not {"bilan", "crf", "lot"} & set(words("pilotage_slots_CtaiReview"))
