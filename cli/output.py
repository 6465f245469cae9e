"""Printing records and errors: French for people, ``--json`` and stable codes for scripts; the
command line's bounds (identifiers, years, dates, ports) and its output files.

Imported by every command, so it imports nothing heavy: a command that needs no platform starts
without Prefect, and without the services it does not call (``bench/cli_start.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

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
    typer.echo("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True)))
    for r in rows:
        typer.echo(
            "  ".join(
                str(r.get(k) if r.get(k) is not None else "").ljust(w)
                for (k, _), w in zip(columns, widths, strict=True)
            )
        )


def report_errors(violations: list[Violation], *, as_json: bool, title: str = "Refusé") -> None:
    if as_json:
        print_json({"ok": False, "erreurs": [v.as_dict() for v in violations]})
    else:
        typer.echo(f"{title} : {pluriel(len(violations), 'erreur')}.", err=True)
        for v in violations:
            typer.echo(f"  - {violation_line(v)}", err=True)


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
        from models.cerfa import violations_from

        fail(violations_from(exc), as_json=as_json)
    except TransitionNotAllowed as exc:
        fail([Violation(exc.code, "decision", exc.message)], as_json=as_json)
    except DomainError as exc:
        fail([Violation(exc.code, "", exc.message)], as_json=as_json)


# --- the same options everywhere -------------------------------------------------------------------

JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Sortie CSV (séparateur point-virgule), pour un tableur.")]


def command(app: typer.Typer, name: str, *aliases: str, **options: Any):
    """Registers a command under its French name, and under each former (English) name as a hidden
    alias: scripts written for the old name keep working, the help shows one name."""

    def register(function):
        app.command(name, **options)(function)
        for alias in aliases:
            app.command(alias, hidden=True, **options)(function)
        return function

    return register


# --- what people read: dates in Paris time, amounts in euros -------------------------------------


def day(value: date | datetime | str | None) -> str:
    """« 7 déc. 2026 »; « — » when there is none."""
    from models.french import date_courte

    return date_courte(value)


def moment(value: datetime | str | None) -> str:
    """« 7 déc. 2026 14:05 » in Paris time; « — » when there is none."""
    from models.french import horodatage

    return horodatage(value)


def print_decisions(entity: str, decisions: list[dict] | None) -> None:
    """A case's history: each decision with its step's French label (``CaseKind.step_label``)."""
    from services.cases import kind

    case_kind = kind(entity)
    typer.echo("  Décisions :")
    if not decisions:
        typer.echo("    (aucune)")
    for d in decisions or []:
        step = case_kind.step_label(d["etape"])
        typer.echo(f"    {moment(d['horodatage'])}  {step} : {d['libelle']} — {d['acteur']}")


def eur(cents: int | None) -> str:
    """« 7 500,00 € »; « — » when there is none."""
    if cents is None:
        return "—"
    from models.money import format_eur

    return format_eur(int(cents), centimes=True)


def echo_fields(pairs: list[tuple[str, Any]], indent: str = "  ") -> None:
    """« Libellé : valeur » lines, aligned; an empty value shows « — »."""
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        shown = "—" if value is None or value == "" or value == [] else value
        typer.echo(f"{indent}{label.ljust(width)} : {shown}")


def violation_line(v: Violation) -> str:
    """« [CODE] champ : message », or « [CODE] message » when no field is named."""
    field = (v.field or "").strip()
    return f"[{v.code}] {field} : {v.message}" if field else f"[{v.code}] {v.message}"


# --- bounds of a date typed on the command line ----------------------------------------------------


def first_campaign_day() -> date:
    """1 January of the programme's first campaign (2019, the first CTAIRs): no date typed on the
    command line comes before it."""
    from models.reference import _campaign_data

    return date(min(int(year) for year in _campaign_data()["years"]), 1, 1)


def parse_day(
    value: str,
    field: str,
    *,
    as_json: bool,
    earliest: date | None = None,
    latest: date | None = None,
    what: str = "la date",
) -> date:
    """A date typed as AAAA-MM-JJ, within [earliest, latest] (by default: from the first campaign
    to today, in Paris): ``DATE_INVALIDE`` or ``DATE_HORS_BORNES`` otherwise (exit 2)."""
    from models.types import paris_today

    try:
        parsed = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        fail(
            [Violation("DATE_INVALIDE", field, f"« {value[:40]} » : date attendue au format AAAA-MM-JJ")],
            as_json=as_json,
        )
    low = earliest or first_campaign_day()
    high = latest or paris_today()
    if not low <= parsed <= high:
        fail(
            [
                Violation(
                    "DATE_HORS_BORNES",
                    field,
                    f"{what} doit être comprise entre le {day(low)} et le {day(high)} : {day(parsed)} refusé",
                )
            ],
            as_json=as_json,
        )
    return parsed


# --- output files: never over a file the command did not write --------------------------------------


def check_output_file(path: Path, *, as_json: bool, marker: bytes | None = None) -> Path:
    """Where a command may write: a new file in an existing folder, or a file this command wrote
    before (recognised by ``marker`` in its first 4 Kio; without a marker, only a new file).
    Anything else (the database, another file, a folder, a device) is refused with
    ``FICHIER_EXISTANT`` or ``CHEMIN_INVALIDE`` (exit 2): nothing is written."""
    label = str(path)[:300]
    if path.is_symlink() or (path.exists() and not path.is_file()):
        fail(
            [
                Violation(
                    "CHEMIN_INVALIDE", label, "ce chemin n'est pas un fichier ordinaire : indiquez un nouveau fichier"
                )
            ],
            as_json=as_json,
        )
    if path.exists():
        try:
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError:
            head = b""
        if marker is None or marker not in head:
            fail(
                [
                    Violation(
                        "FICHIER_EXISTANT",
                        label,
                        "ce fichier existe déjà et n'a pas été écrit par cette commande : "
                        "indiquez un nouveau fichier (rien n'a été écrit)",
                    )
                ],
                as_json=as_json,
            )
    if not path.parent.is_dir():
        fail(
            [Violation("DOSSIER_INTROUVABLE", label, "le dossier de ce fichier n'existe pas : créez-le d'abord")],
            as_json=as_json,
        )
    return path


def write_output(path: Path, data: str | bytes, *, as_json: bool, marker: bytes | None = None) -> None:
    """Writes ``data`` to ``path`` once ``check_output_file`` allows it. A new file is created
    exclusively (a file that appeared meanwhile is not overwritten); the command's own file is
    replaced by renaming a new one over it (a reader never sees half a file)."""
    import os
    import tempfile

    check_output_file(path, as_json=as_json, marker=marker)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if marker is None or not path.exists():
            with path.open("xb") as out:
                out.write(payload)
            return
        fd, temporary = tempfile.mkstemp(prefix=".territoires-", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(temporary, path)
    except FileExistsError:
        check_output_file(path, as_json=as_json)  # refused: someone else's file
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        fail([Violation("FICHIER_NON_ECRIT", str(path)[:300], f"écriture impossible ({reason})")], as_json=as_json)
