"""``territoires audit verifier|publier``: the chained audit trail of decisions."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli.output import EXIT_FAILED, JsonOpt, command, print_json, user_errors
from cli.prefect_link import prefect_problem, require_prefect
from models.french import pluriel

audit_app = typer.Typer()


def _published() -> tuple[list | None, str | None]:
    """The heads published in Prefect, or why they could not be read."""
    from services.db import unit_of_work
    from services.engine import audit

    problem = prefect_problem()
    if problem:
        return None, f"{problem} ; les têtes publiées n'ont pas été lues"
    with unit_of_work() as session:
        artifact = audit.head_artifact(session)
    try:
        return asyncio.run(audit.published_heads(artifact)), None
    except Exception as exc:  # noqa: BLE001 - an unreachable Prefect is reported, the chain is still checked
        return None, f"têtes publiées illisibles ({type(exc).__name__}) : seule la chaîne en base a été vérifiée"


EXIT_UNCHECKED = 3  # the chain is intact as far as it was checked, but the published heads were not


@command(audit_app, "verifier", "verify")
def audit_verify(
    publications: Annotated[
        bool, typer.Option("--publications/--sans-publications", help="Comparer aussi aux têtes publiées dans Prefect")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Vérifie chaque maillon (HMAC-SHA256), le sceau de la tête et les têtes publiées hors de la base.

    Sortie 0 : intègre ; 1 : altérée ; 3 : chaîne intègre mais têtes publiées non lues ou absentes."""
    from services.db import unit_of_work
    from services.engine import audit

    published, warning = _published() if publications else (None, None)
    with user_errors(as_json), unit_of_work() as session:
        count, breaks = audit.verify(session, published)
    checked = len(published) if published is not None else 0
    if publications and published is not None and not published and count:
        warning = (
            "aucune tête publiée n'a été trouvée : la fin de la chaîne n'a pas pu être comparée (tournée quotidienne ?)"
        )
    if as_json:
        print_json(
            {
                "ok": not breaks,
                "decisions": count,
                "tetes_publiees_verifiees": checked,
                "anomalies": [b.as_dict() for b in breaks],
                **({"avertissement": warning} if warning else {}),
            }
        )
    elif breaks:
        typer.echo(
            f"Piste d'audit ALTÉRÉE : {pluriel(len(breaks), 'anomalie')} sur {pluriel(count, 'décision')}.", err=True
        )
        for b in breaks:
            typer.echo(f"  - décision n° {b.decision_id} : {b.reason}", err=True)
    else:
        typer.echo(
            f"Piste d'audit intègre : {pluriel(count, 'décision vérifiée')}, "
            f"{pluriel(checked, 'tête publiée retrouvée', 'têtes publiées retrouvées')}."
        )
    if warning and not as_json:
        typer.echo(f"Attention : {warning}.", err=True)
    if breaks:
        raise typer.Exit(EXIT_FAILED)
    if warning:
        raise typer.Exit(EXIT_UNCHECKED)


@command(audit_app, "publier", "publish")
def audit_publish(as_json: JsonOpt = False) -> None:
    """Publie maintenant la tête de la piste d'audit dans Prefect (la tournée quotidienne le fait chaque jour)."""
    from services.db import unit_of_work
    from services.engine import audit

    with user_errors(as_json):
        require_prefect()
        with unit_of_work() as session:
            head = audit.head_for_publication(session)
        asyncio.run(audit.publish_head(head))
    print_json(head) if as_json else typer.echo(f"Tête publiée ({head['artefact']}) : décision n° {head['decision']}.")
