"""``territoires tableau-de-bord``: the national dashboard on demand, without Prefect: its key
figures on the terminal (or all of them with ``--json``) and its self-contained HTML page.
The flow ``tableau-de-bord-national`` publishes the same every morning as Prefect artifacts.

``--html FILE`` writes a new file, or replaces a page this command wrote before (recognised by
its ``generator`` meta tag): never any other file (``FICHIER_EXISTANT``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.output import JsonOpt, check_output_file, eur, print_json, user_errors, write_output

MARKER = b'<meta name="generator" content="territoires tableau-de-bord">'  # in documents/templates


def tableau_de_bord(
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Écrit la page dans ce fichier : un nouveau fichier, ou une page que cette commande a déjà écrite "
            "(par défaut : le dossier des rapports)",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Le tableau de bord national : territoires engagés, montants engagés (par année, domaine, action P104,
    département), actions financées, délégations au regard de l'enveloppe, étapes en retard."""
    from documents.dashboard import focus_year, render_html
    from models.dashboard import territories_text
    from models.types import paris_today
    from services.db import unit_of_work
    from services.reporting.national import figures
    from services.reporting.report import refresh

    today = paris_today()
    if html is not None:
        check_output_file(html, as_json=as_json, marker=MARKER)
    with user_errors(as_json):
        if html is None:
            found, path = refresh(today)
        else:
            with unit_of_work() as session:
                found = figures(session, today)
            page = render_html(found)
            write_output(html, page, as_json=as_json, marker=MARKER)
            path = html
    if as_json:
        print_json({**found, "rapport": str(path)})
        return
    year = focus_year(found)
    if year is None:
        typer.echo("Aucun contrat signé ni crédit délégué pour l'instant.")
    else:
        amounts = found["montants"]["par_annee"].get(year, {})
        territories = found["territoires"].get(year, {})
        typer.echo(f"Tableau de bord national — {year}")
        typer.echo(f"  Territoires engagés : {territories.get('total', 0)} ({territories_text(territories)})")
        typer.echo(
            f"  Montant engagé : {eur(amounts.get('total_cents', 0))} "
            f"({amounts.get('lignes_financees', 0)} actions et projets financés)"
        )
        typer.echo(f"  Étapes en retard aujourd'hui : {found['etapes_en_retard']['total']}")
    typer.echo(f"Page complète (graphiques) : {path}")
