"""House rules that no linter states on its own: a silenced warning says which rule it silences and why."""

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_OURS = {".venv", ".vendor", "var", "test-output", "build", "__pycache__", ".git", ".pytest_cache"}

# `# noqa: E402 - Prefect reads its settings at import` (one or more rules, then " - " and a reason)
NAMED_AND_EXPLAINED = re.compile(r"#\s*noqa:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*\s+-\s+\S.{2,}")
NOQA = re.compile(r"#\s*(ruff\s*:\s*)?noqa\b", re.IGNORECASE)


def our_python_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not NOT_OURS.intersection(path.relative_to(ROOT).parts)
        and not path.relative_to(ROOT).parts[0].endswith(".egg-info")
    )


def unexplained_noqa(source: str) -> list[tuple[int, str]]:
    """The `noqa` comments of a module that do not name their rule or give no reason, with their line."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and NOQA.search(token.string):
            comment = token.string[NOQA.search(token.string).start() :]
            if not NAMED_AND_EXPLAINED.fullmatch(comment.rstrip()):
                found.append((token.start[0], token.string))
    return found


def test_every_noqa_in_our_code_names_its_rule_and_gives_a_reason():
    files = our_python_files()
    assert len(files) > 100  # the walk found the project, not an empty folder
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {comment}"
        for path in files
        for line, comment in unexplained_noqa(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "un `# noqa` doit nommer sa règle et donner sa raison :\n" + "\n".join(offenders)


def test_a_noqa_without_a_rule_or_without_a_reason_is_reported_and_an_explained_one_is_not():
    source = (
        "import a  # noqa\n"
        "import b  # noqa: F401\n"
        "import c  # noqa: F401  \n"
        "import d  # NOQA -  \n"
        "# ruff: noqa\n"
        "import e  # noqa: E402,F401 - before Prefect reads its settings\n"
        "import f  # noqa: E402 - the backend is chosen first\n"
        "text = '# noqa in a string is not a comment'\n"
    )
    assert [line for line, _ in unexplained_noqa(source)] == [1, 2, 3, 4, 5]
