"""``territoires comite planifier|ouvrir|liste|voir|reprendre``: the comités de pilotage (seed 003, step 7)."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated

import typer

from cli.output import ID, JsonOpt, command, day, echo_fields, moment, parse_day, print_json, print_table, user_errors
from cli.prefect_link import require_prefect

comite_app = typer.Typer()
LEVEL_LABELS = {"national": "national", "local": "local"}


class Niveau(StrEnum):
    NATIONAL = "national"
    LOCAL = "local"


@command(comite_app, "planifier", "start")
def comite_start(
    niveau: Annotated[Niveau, typer.Option(help="national (Diair et ministère) ou local (préfecture)")],
    date_: Annotated[str, typer.Option("--date", help="Date prévue du comité (AAAA-MM-JJ, deux ans à venir au plus)")],
    departement: Annotated[str | None, typer.Option(help="Code du département (comité local)")] = None,
    ctai: Annotated[
        list[int] | None,
        typer.Option("--ctai", help="N° d'un contrat suivi (répétable ; par défaut : tous ceux du périmètre)", **ID),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Prévoit un comité et lance son exécution (planifiée pour son jour s'il est à venir) ; affiche son n° et celui
    de l'exécution."""
    from models.pilotage import PLANNED_AT_MOST_AHEAD, PLANNED_EARLIEST
    from models.types import paris_today
    from services.db import unit_of_work
    from services.pilotage import workflow as pilotage

    planned_on = parse_day(
        date_,
        "date",
        as_json=as_json,
        earliest=PLANNED_EARLIEST,
        latest=paris_today() + PLANNED_AT_MOST_AHEAD,
        what="la date prévue d'un comité",
    )
    with user_errors(as_json):
        require_prefect()
        with unit_of_work() as session:
            comite, created = pilotage.plan(
                session,
                level=niveau.value,
                departement_code=departement,
                planned_on=planned_on,
                ctai_ids=list(ctai or []),
            )
            comite_id, reference = comite.id, comite.reference
        started = asyncio.run(pilotage.start_run(comite_id, "start"))
    result = {
        "comite_id": comite_id,
        "reference": reference,
        "flow_run_id": started["flow_run_id"],
        "planifie_pour": started["planifie_pour"],
        "nouveau": created,
    }
    if as_json:
        print_json(result)
        return
    typer.echo(f"Comité {reference} (n° {comite_id}) {'prévu' if created else 'déjà prévu'} le {day(planned_on)}.")
    when = f", planifiée pour le {moment(result['planifie_pour'])}" if result["planifie_pour"] else ""
    typer.echo(f"Exécution {result['flow_run_id']}{when}.")


@command(comite_app, "liste", "list")
def comite_list(as_json: JsonOpt = False) -> None:
    """Les comités, par date prévue."""
    from services.db import unit_of_work
    from services.pilotage import records

    with user_errors(as_json), unit_of_work() as session:
        rows = records.listing(session)
    if as_json:
        print_json(rows)
        return
    print_table(
        [row | {"date_prevue": day(row["date_prevue"]), "date_tenue": day(row["date_tenue"])} for row in rows],
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


@command(comite_app, "voir", "show")
def comite_show(comite_id: Annotated[int, typer.Argument(help="N° du comité", **ID)], as_json: JsonOpt = False) -> None:
    """Un comité : contrats suivis, participants, actions examinées et décisions, compte rendu."""
    from services.db import unit_of_work
    from services.pilotage import records

    with user_errors(as_json), unit_of_work() as session:
        data = records.show(session, comite_id)
    if as_json:
        print_json(data)
        return
    dep = data["departement"]
    typer.echo(f"Comité {data['niveau']} {data['reference']}" + (f" — {dep['nom']} ({dep['code']})" if dep else ""))
    echo_fields(
        [
            ("Statut", data["statut_libelle"]),
            ("Prévu le", day(data["date_prevue"])),
            ("Tenu le", day(data["date_tenue"]) if data["date_tenue"] else None),
            ("Contrats suivis", ", ".join(f"{c['reference']} ({c['collectivite']})" for c in data["contrats"])),
            ("Participants", ", ".join(f"{p['nom']} ({p['fonction']})" for p in data["participants"])),
            ("Compte rendu", data["compte_rendu"]),
            ("Motif d'annulation", data["motif_annulation"]),
        ]
    )
    if data["actions_examinees"]:
        typer.echo("  Actions examinées :")
        for a in data["actions_examinees"]:
            flag = f" ; à revoir au bilan annuel : {a['motif']}" if a["a_revoir_au_bilan"] else ""
            typer.echo(f"    - n° {a['action_id']} {a['intitule'] or ''} : {a['decision']}{flag}")


@command(comite_app, "reprendre", "resume")
def comite_resume(
    comite_id: Annotated[int, typer.Argument(help="N° du comité", **ID)], as_json: JsonOpt = False
) -> None:
    """Reprend l'exécution d'un comité qui attend son compte rendu : telle quelle si elle vit, relancée si elle a
    échoué, planté ou été annulée, recréée si Prefect ne la connaît plus."""
    from cli.workflow import echo_resumed, resume_case

    result = {"comite_id": comite_id, **resume_case("comite", comite_id, as_json)}
    print_json(result) if as_json else echo_resumed(result)


@command(comite_app, "ouvrir", "open")
def comite_open(comite_id: Annotated[int, typer.Argument(help="N° du comité", **ID)], as_json: JsonOpt = False) -> None:
    """Ouvre dès maintenant un comité planifié pour un jour à venir (avancé, ou pour l'annuler) : son compte rendu
    devient attendu."""
    from cli.workflow import echo_resumed
    from services.pilotage import workflow as pilotage

    with user_errors(as_json):
        require_prefect()
        result = asyncio.run(pilotage.open_now(comite_id))
    result = {"comite_id": comite_id, **result}
    print_json(result) if as_json else echo_resumed(result)
