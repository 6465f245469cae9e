"""``territoires enveloppe fixer``, ``delegation lancer|exporter`` and ``export scdl``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.output import ID, YEAR, JsonOpt, command, eur, fail, print_json, user_errors, write_output
from models.errors import Violation

enveloppe_app = typer.Typer()
delegation_app = typer.Typer()
export_app = typer.Typer()
OutOpt = Annotated[
    Path | None,
    typer.Option("--sortie", "--out", help="Fichier de sortie, nouveau (défaut : la sortie standard)"),
]


@command(enveloppe_app, "fixer", "set")
def envelope_set(
    year: Annotated[int, typer.Option("--annee", "--year", help="Année de la campagne", **YEAR)],
    amount: Annotated[str, typer.Option("--montant", "--amount", help="Montant en euros, par exemple 9000000")],
    agent: Annotated[str, typer.Option(help="Votre courriel (agent du ministère ou administrateur)")],
    as_json: JsonOpt = False,
) -> None:
    """Fixe l'enveloppe nationale d'une année ; la décision est inscrite dans la piste d'audit."""
    from models.money import euros_to_cents, parse_euros
    from services.db import unit_of_work
    from services.finance.envelope import set_envelope

    with user_errors(as_json):
        try:
            cents = euros_to_cents(parse_euros(amount))
        except ValueError as exc:
            fail([Violation("MONTANT_INVALIDE", "amount", str(exc))], as_json=as_json)
        with unit_of_work() as session:
            set_envelope(session, year, cents, agent)
    if as_json:
        print_json({"annee": year, "montant_cents": cents})
    else:
        typer.echo(f"Enveloppe {year} fixée à {eur(cents)}.")


@command(delegation_app, "lancer", "run")
def delegation_run(
    year: Annotated[
        int | None, typer.Option("--annee", "--year", help="Année de la campagne (défaut : l'année en cours)", **YEAR)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Lance maintenant un lot de délégation (le même flux que l'exécution mensuelle)."""
    from cli.prefect_link import require_prefect
    from services.engine.launch import start_batch_run

    with user_errors(as_json):
        require_prefect()
        run_id = asyncio.run(start_batch_run(year))
    if as_json:
        print_json({"flow_run_id": run_id, "annee": year})
    else:
        typer.echo(f"Lot de délégation lancé : exécution {run_id}")


LINE_FIELDS = ["lot", "annee", "departement", "programme", "action", "ae_euros", "cp_euros", "nombre_demandes"]


@command(delegation_app, "exporter", "export")
def delegation_export(
    batch_id: Annotated[int, typer.Argument(help="N° du lot", **ID)],
    format: Annotated[str, typer.Option("--format", help="csv")] = "csv",
    out: OutOpt = None,
) -> None:
    """Une ligne par département et action P104, prête à saisir dans le système financier de l'État (CSV)."""
    from sqlmodel import select

    from models.delegation import DelegationBatch, DelegationLine
    from models.money import cents_to_euros
    from services.db import unit_of_work
    from services.finance.exports import to_csv

    if format != "csv":
        fail([Violation("FORMAT_INCONNU", "format", "seul le format csv est proposé")], as_json=False)
    if out is not None:
        from cli.output import check_output_file

        check_output_file(out, as_json=False)
    with user_errors(False), unit_of_work() as session:
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
        reference = batch.reference
    rows = [
        {
            "lot": reference,
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


@command(export_app, "scdl")
def export_scdl(
    year: Annotated[int, typer.Option("--annee", "--year", help="Année financée", **YEAR)],
    out: OutOpt = None,
) -> None:
    """Les actes signés de l'année (arrêtés et conventions, CTAI et PTAI), une ligne par acte, au format SCDL
    « subventions » 2.1.1 (schema.data.gouv.fr), séparateur virgule."""
    from services.db import unit_of_work
    from services.finance.exports import scdl_acts
    from services.finance.scdl import scdl_csv

    if out is not None:
        from cli.output import check_output_file

        check_output_file(out, as_json=False)
    with user_errors(False), unit_of_work() as session:
        acts = scdl_acts(session, year)
    _write(scdl_csv(acts), out)


def _write(text: str, out: Path | None) -> None:
    """To the standard output, or to a new file (an existing one is refused: ``FICHIER_EXISTANT``)."""
    if out is None:
        sys.stdout.write(text)
    else:
        write_output(out, text, as_json=False)
        typer.echo(f"Écrit : {out}", err=True)
