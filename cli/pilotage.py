"""``territoires comite start|open|list|show|resume``: the comités de pilotage (seed 003, step 7)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import typer

from cli.output import ID, fail, print_json, print_table, user_errors
from cli.prefect_link import require_prefect
from models.errors import Violation
from services.db import unit_of_work
from services.pilotage import records
from services.pilotage import workflow as pilotage

comite_app = typer.Typer(
    help="Comités de pilotage des contrats (national : Diair et ministère ; local : préfecture).", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]


class Niveau(StrEnum):
    NATIONAL = "national"
    LOCAL = "local"


def register(app: typer.Typer) -> None:
    app.add_typer(comite_app, name="comite")


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(
            [Violation("DATE_INVALIDE", "date", f"« {value[:40]} » : date attendue au format AAAA-MM-JJ")], as_json=True
        )


@comite_app.command("start")
def comite_start(
    niveau: Annotated[Niveau, typer.Option(help="national (Diair et ministère) ou local (préfecture)")],
    date_: Annotated[str, typer.Option("--date", help="Date prévue du comité (AAAA-MM-JJ)")],
    departement: Annotated[str | None, typer.Option(help="Code du département (comité local)")] = None,
    ctai: Annotated[
        list[int] | None,
        typer.Option("--ctai", help="N° d'un contrat suivi (répétable ; par défaut : tous ceux du périmètre)", **ID),
    ] = None,
) -> None:
    """Prévoit un comité et lance son exécution (planifiée pour son jour s'il est à venir) ; affiche son n° et celui de l'exécution (JSON)."""
    planned_on = _day(date_)
    with user_errors(True):
        require_prefect()
        with unit_of_work() as session:
            comite, created = pilotage.plan(
                session,
                level=niveau.value,
                departement_code=departement,
                planned_on=planned_on,
                ctai_ids=list(ctai or []),
            )
        started = asyncio.run(pilotage.start_run(comite.id, "start"))
    print_json(
        {
            "comite_id": comite.id,
            "reference": comite.reference,
            "flow_run_id": started["flow_run_id"],
            "planifie_pour": started["planifie_pour"],
            "nouveau": created,
        }
    )


@comite_app.command("list")
def comite_list(as_json: JsonOpt = False) -> None:
    """Les comités, par date prévue."""
    with user_errors(as_json), unit_of_work() as session:
        rows = records.listing(session)
    if as_json:
        print_json(rows)
        return
    print_table(
        rows,
        [
            ("id", "n°"),
            ("reference", "référence"),
            ("niveau", "niveau"),
            ("departement", "dépt"),
            ("date_prevue", "prévu le"),
            ("date_tenue", "tenu le"),
            ("statut_libelle", "statut"),
            ("contrats", "contrats"),
        ],
    )


@comite_app.command("show")
def comite_show(
    comite_id: Annotated[int, typer.Argument(help="N° du comité", **ID)],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (toujours).")] = True,
) -> None:
    """Un comité : contrats suivis, participants, actions examinées et décisions, compte rendu (JSON)."""
    with user_errors(True), unit_of_work() as session:
        data = records.show(session, comite_id)
    print_json(data)


@comite_app.command("resume")
def comite_resume(comite_id: Annotated[int, typer.Argument(help="N° du comité", **ID)]) -> None:
    """Reprend l'exécution d'un comité qui attend son compte rendu : telle quelle si elle vit, relancée si elle a
    échoué, planté ou été annulée, recréée si Prefect ne la connaît plus (JSON)."""
    from services.followup.recovery import resume_case

    with user_errors(True):
        require_prefect()
        result = asyncio.run(resume_case("comite", comite_id))
    print_json({"comite_id": comite_id, **result})


@comite_app.command("open")
def comite_open(comite_id: Annotated[int, typer.Argument(help="N° du comité", **ID)]) -> None:
    """Ouvre dès maintenant un comité planifié pour un jour à venir (avancé, ou pour l'annuler) : son compte rendu
    devient attendu (JSON)."""
    with user_errors(True):
        require_prefect()
        result = asyncio.run(pilotage.open_now(comite_id))
    print_json({"comite_id": comite_id, **result})
