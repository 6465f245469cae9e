"""The kinds of case that go through approval steps, by name (as flows and tasks refer to them)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from services.step_engine import CaseKind


def kind(name: str) -> CaseKind:
    return _kinds()[name][0]


def dashboard(name: str) -> Callable[[Session, int], str]:
    """The Markdown artifact of one case, kept current by the flows."""
    return _kinds()[name][1]


def _kinds() -> dict[str, tuple[CaseKind, Callable[[Session, int], str]]]:
    from services.ctai_text import contract_markdown
    from services.ctai_workflow import CTAI
    from services.delegation import BATCH, batch_markdown
    from services.ptai_text import request_markdown
    from services.ptai_workflow import PTAI

    return {"ctai": (CTAI, contract_markdown), "ptai": (PTAI, request_markdown), "lot": (BATCH, batch_markdown)}
