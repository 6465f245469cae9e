"""Printing records and errors: French for people, ``--json`` and stable codes for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from models.cerfa import violations_from
from models.errors import DomainError, RuleViolation, TransitionNotAllowed, Violation
from models.french import pluriel

EXIT_INVALID = 2  # bad input: nothing was stored
EXIT_FAILED = 1

# Bounds of what the command line accepts: record numbers fit the database's integers, years
# the campaigns, ports the unprivileged range.
MAX_ID = 2_147_483_647
ID = {"min": 1, "max": MAX_ID}
YEAR = {"min": 2019, "max": 2100}
PORT = {"min": 1024, "max": 65535}


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


MAX_FILE_BYTES = 1024 * 1024  # a request or a proposal is a few kilobytes; the size is read before the content


def read_user_file(path: Path, *, as_json: bool) -> str:
    """A JSON file given on the command line: bounded in size (checked before reading), UTF-8
    (with or without BOM); any problem is refused with a code and a French message."""
    label = str(path)[:300]
    try:
        if path.is_dir():
            fail(
                [Violation("FICHIER_ILLISIBLE", label, "c'est un dossier : indiquez un fichier JSON")], as_json=as_json
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        fail([Violation("FICHIER_INTROUVABLE", label, "fichier introuvable : vérifiez le chemin")], as_json=as_json)
    except OSError as exc:
        fail(
            [Violation("FICHIER_ILLISIBLE", label, f"fichier illisible ({exc.strerror or type(exc).__name__})")],
            as_json=as_json,
        )
    if len(data) > MAX_FILE_BYTES:
        fail(
            [Violation("FICHIER_TROP_GROS", label, f"fichier trop volumineux : {MAX_FILE_BYTES // 1024} Kio au plus")],
            as_json=as_json,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(
            [Violation("FICHIER_ILLISIBLE", label, "fichier illisible : un texte JSON encodé en UTF-8 est attendu")],
            as_json=as_json,
        )


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
        typer.echo(
            "  ".join(str(r.get(k) if r.get(k) is not None else "").ljust(w) for (k, _), w in zip(columns, widths))
        )


def report_errors(violations: list[Violation], *, as_json: bool, title: str = "Refusé") -> None:
    if as_json:
        print_json({"ok": False, "erreurs": [v.as_dict() for v in violations]})
    else:
        typer.echo(f"{title} : {pluriel(len(violations), 'erreur')}.", err=True)
        for v in violations:
            typer.echo(f"  - {v}", err=True)


def fail(violations: list[Violation], *, as_json: bool, title: str = "Refusé") -> None:
    report_errors(violations, as_json=as_json, title=title)
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
        fail([Violation(exc.code, "decision", exc.message)], as_json=as_json)
    except DomainError as exc:
        fail([Violation(exc.code, "", exc.message)], as_json=as_json)
