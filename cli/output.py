"""Printing records and errors: French for people, ``--json`` and stable codes for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import typer
from pydantic import ValidationError

from models.cerfa import violations_from
from models.errors import DomainError, RuleViolation, TransitionNotAllowed, Violation

EXIT_INVALID = 2  # bad input: nothing was stored
EXIT_FAILED = 1


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def redacted_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def print_table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    """Plain aligned columns; ``columns`` is (key, French header)."""
    if not rows:
        typer.echo("(aucun enregistrement)")
        return
    widths = [max(len(h), *(len(str(r.get(k) if r.get(k) is not None else "")) for r in rows)) for k, h in columns]
    typer.echo("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths)))
    for r in rows:
        typer.echo("  ".join(str(r.get(k) if r.get(k) is not None else "").ljust(w) for (k, _), w in zip(columns, widths)))


def fail(violations: list[Violation], *, as_json: bool, title: str = "Refusé") -> None:
    if as_json:
        print_json({"ok": False, "erreurs": [v.as_dict() for v in violations]})
    else:
        typer.echo(f"{title} : {len(violations)} erreur(s).", err=True)
        for v in violations:
            typer.echo(f"  - {v}", err=True)
    raise typer.Exit(EXIT_INVALID)


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Turns domain errors into a French message, a stable code and exit status 2."""
    try:
        yield
    except RuleViolation as exc:
        fail(exc.violations, as_json=as_json)
    except ValidationError as exc:
        fail(violations_from(exc), as_json=as_json)
    except TransitionNotAllowed as exc:
        fail([Violation(exc.code, "decision", str(exc))], as_json=as_json)
    except DomainError as exc:
        fail([Violation(exc.code, "", str(exc))], as_json=as_json)
