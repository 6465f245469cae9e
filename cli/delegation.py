"""``territoires envelope set``, ``delegation run|export`` and ``export scdl``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import select

from cli.output import ID, YEAR, fail, print_json, user_errors
from models.errors import Violation
from models.money import cents_to_euros, euros_to_cents, parse_euros
from services.db import unit_of_work

envelope_app = typer.Typer(help="Enveloppe nationale annuelle des crédits PTAI.", no_args_is_help=True)
delegation_app = typer.Typer(help="Délégation des crédits par lots (ministère).", no_args_is_help=True)
export_app = typer.Typer(help="Exports en données ouvertes.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]


def register(app: typer.Typer) -> None:
    app.add_typer(envelope_app, name="envelope")
    app.add_typer(delegation_app, name="delegation")
    app.add_typer(export_app, name="export")


@envelope_app.command("set")
def envelope_set(
    year: Annotated[int, typer.Option(help="Année de la campagne", **YEAR)],
    amount: Annotated[str, typer.Option(help="Montant en euros, par exemple 9000000")],
    agent: Annotated[str, typer.Option(help="Votre courriel (agent du ministère ou administrateur)")],
    as_json: JsonOpt = False,
) -> None:
    """Fixe l'enveloppe nationale d'une année ; la décision est inscrite dans la piste d'audit."""
    from services.finance.envelope import set_envelope

    with user_errors(as_json):
        try:
            cents = euros_to_cents(parse_euros(amount))
        except ValueError as exc:
            fail([Violation("MONTANT_INVALIDE", "amount", str(exc))], as_json=as_json)
        with unit_of_work() as session:
            set_envelope(session, year, cents, agent)
    print_json({"annee": year, "montant_cents": cents}) if as_json else typer.echo(f"Enveloppe {year} fixée.")


@delegation_app.command("run")
def delegation_run(
    year: Annotated[
        int | None, typer.Option(help="Année de la campagne (défaut : l'année en cours)", **YEAR)
    ] = None,
) -> None:
    """Lance maintenant un lot de délégation (le même flux que l'exécution mensuelle) ; JSON."""
    from cli.prefect_link import require_prefect
    from services.engine.launch import start_batch_run

    with user_errors(True):
        require_prefect()
        run_id = asyncio.run(start_batch_run(year))
    print_json({"flow_run_id": run_id, "annee": year})


LINE_FIELDS = ["lot", "annee", "departement", "programme", "action", "ae_euros", "cp_euros", "nombre_demandes"]


@delegation_app.command("export")
def delegation_export(
    batch_id: Annotated[int, typer.Argument(help="N° du lot", **ID)],
    format: Annotated[str, typer.Option("--format", help="csv")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Fichier de sortie (défaut : la sortie standard)")] = None,
) -> None:
    """Une ligne par département et action P104, prête à saisir dans le système financier de l'État."""
    from models.delegation import DelegationBatch, DelegationLine
    from services.finance.exports import to_csv

    if format != "csv":
        fail([Violation("FORMAT_INCONNU", "format", "seul le format csv est proposé")], as_json=False)
    with unit_of_work() as session:
        batch = session.get(DelegationBatch, batch_id)
        if batch is None:
            fail([Violation("INTROUVABLE", "batch_id", f"aucun lot n° {batch_id}")], as_json=False)
        lines = list(
            session.exec(
                select(DelegationLine)
                .where(DelegationLine.batch_id == batch_id)
                .order_by(DelegationLine.departement_code, DelegationLine.p104_action)
            )
        )
    rows = [
        {
            "lot": batch.reference,
            "annee": line.year,
            "departement": line.departement_code,
            "programme": "104",
            "action": line.p104_action,
            "ae_euros": cents_to_euros(line.ae_cents),
            "cp_euros": cents_to_euros(line.cp_cents),
            "nombre_demandes": line.requests_count,
        }
        for line in lines
    ]
    _write(to_csv(LINE_FIELDS, rows), out)


@export_app.command("scdl")
def export_scdl(
    year: Annotated[int, typer.Option(help="Année financée", **YEAR)],
    out: Annotated[Path | None, typer.Option(help="Fichier de sortie (défaut : la sortie standard)")] = None,
) -> None:
    """Les actes signés de l'année (arrêtés et conventions, CTAI et PTAI), une ligne par acte, au format SCDL
    « subventions » 2.1.1 (schema.data.gouv.fr), séparateur virgule."""
    from services.finance.exports import scdl_acts
    from services.finance.scdl import scdl_csv

    with user_errors(False), unit_of_work() as session:
        acts = scdl_acts(session, year)
    _write(scdl_csv(acts), out)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Écrit : {out}", err=True)
