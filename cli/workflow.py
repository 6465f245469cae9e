"""``territoires ctai start|propose|rework|register-ctair|review``, ``approvals list|decide`` and ``serve``."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.output import ID, YEAR, fail, print_json, print_table, read_user_file, user_errors
from cli.prefect_link import prefect_problem, require_prefect
from models.types import paris_today
from services.cases import kind
from services.ctai import proposal as ctai_proposal
from services.ctai import workflow as ctai_workflow
from services.db import unit_of_work
from services.engine import waiting as waiting_runs
from services.engine.launch import start_case_step
from services.followup.recovery import interrupted_steps

approvals_app = typer.Typer(
    help="Décisions en attente (le pendant scriptable de l'interface Prefect).", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]


def register(ctai_app: typer.Typer, ptai_app: typer.Typer, app: typer.Typer) -> None:
    ctai_app.command("start")(ctai_start)
    ctai_app.command("propose")(ctai_propose)
    ctai_app.command("rework")(ctai_rework)
    ctai_app.command("register-ctair")(ctai_register_ctair)
    ctai_app.command("review")(ctai_review)
    ctai_app.command("bilan")(ctai_bilan)
    ctai_app.command("resume")(ctai_resume)
    ptai_app.command("complete")(ptai_complete)
    ptai_app.command("resume")(ptai_resume)
    app.add_typer(approvals_app, name="approvals")
    app.command("serve")(serve)


def ctai_start(
    collectivite: Annotated[int, typer.Option(help="N° de la collectivité", **ID)],
    from_ctair: Annotated[int | None, typer.Option("--from-ctair", help="N° du CTAIR à élargir", **ID)] = None,
    first_year: Annotated[
        int, typer.Option("--first-year", help="Première année du contrat", **YEAR)
    ] = paris_today().year + 1,
    years: Annotated[
        int | None, typer.Option(help="Durée en années (par défaut : celle de la campagne)", min=1, max=6)
    ] = None,
) -> None:
    """Crée le contrat et lance sa première étape ; affiche le n° du contrat et de l'exécution (JSON)."""
    with user_errors(True):
        require_prefect()
        with unit_of_work() as session:
            ctai, created = ctai_workflow.create(
                session, collectivite_id=collectivite, first_year=first_year, years=years, from_ctair_id=from_ctair
            )
        run_id = asyncio.run(start_case_step(kind("ctai"), ctai.id, "start"))
    print_json({"ctai_id": ctai.id, "reference": ctai.reference, "flow_run_id": run_id, "nouveau": created})


def start_or_warn(case: str, entity_id: int, cause: str) -> tuple[str | None, str | None]:
    """For commands that store first: the record stays even when Prefect cannot be reached."""
    problem = prefect_problem()
    if problem:
        return (
            None,
            f"{problem} ; l'étape n'est pas lancée ; lancez-la ensuite avec : territoires {case} resume {entity_id}",
        )
    try:
        return asyncio.run(start_case_step(kind(case), entity_id, cause)), None
    except Exception as exc:  # noqa: BLE001 - any Prefect/network failure is reported, not raised
        return None, (
            f"l'étape n'a pas pu être lancée dans Prefect ({type(exc).__name__}: {exc}) ; "
            f"relancez-la avec : territoires {case} resume {entity_id}"
        )


def ctai_propose(
    ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)],
    file: Annotated[Path, typer.Argument(help="Proposition JSON : public, financements, actions")],
    as_json: JsonOpt = False,
) -> None:
    """Enregistre la proposition de contrat (actions, porteurs, montants) et montre les règles à respecter."""
    text = read_user_file(file, as_json=as_json)
    with user_errors(as_json), unit_of_work() as session:
        warnings = ctai_proposal.propose(session, ctai_id, text)
    if as_json:
        print_json({"ok": True, "avertissements": [w.as_dict() for w in warnings]})
        return
    typer.echo("Proposition enregistrée.")
    for w in warnings:
        typer.echo(f"  ⚠ {w} (à corriger avant la validation)")


def ctai_rework(
    ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)],
    file: Annotated[
        Path,
        typer.Argument(
            help='Les actions retravaillées (JSON) : {"actions": [{"id": N, …}]}, '
            "au format des actions de la proposition"
        ),
    ],
) -> None:
    """La collectivité transmet les actions que la Diair lui a renvoyées ; la revue Diair reprend (JSON)."""
    from services.ctai import rework as ctai_rework_service

    text = read_user_file(file, as_json=True)
    with user_errors(True):
        with unit_of_work() as session:
            ctai, decision_id = ctai_rework_service.rework(session, ctai_id, text)
            reference, status = ctai.reference, ctai.status
        run_id, warning = start_or_warn("ctai", ctai_id, f"d{decision_id}")
    print_json(
        {
            "ctai_id": ctai_id,
            "reference": reference,
            "statut": status,
            "flow_run_id": run_id,
            **({"avertissement": warning} if warning else {}),
        }
    )


def ctai_bilan(
    ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)],
    file: Annotated[
        Path,
        typer.Argument(
            help='Le bilan (JSON) : {"actions": [{"action_id": N, "realisee": true, '
            '"public_atteint": 40, "consomme_eur": "38000.00"}]}'
        ),
    ],
) -> None:
    """Enregistre le bilan de l'année transmis par la collectivité, action par action ; l'instruction conclut ensuite (JSON)."""
    from services.ctai import bilan as ctai_bilan_service

    text = read_user_file(file, as_json=True)
    with user_errors(True), unit_of_work() as session:
        contract = ctai_workflow.CTAI.lock(session, ctai_id)
        review, count = ctai_bilan_service.record_bilan(session, contract, text)
        result = {"ctai_id": ctai_id, "reference": contract.reference, "annee": review.year, "actions": count}
    print_json(result)


def _day(value: str) -> date:
    try:
        return datetime.strptime(value.strip()[:10], "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter("date attendue au format AAAA-MM-JJ") from None


def ctai_register_ctair(
    collectivite: Annotated[int, typer.Option(help="N° de la collectivité", **ID)],
    signature_date: Annotated[
        str, typer.Option("--signature-date", help="Date de signature par le préfet (AAAA-MM-JJ, en 2019 ou 2020)")
    ],
    file: Annotated[
        Path,
        typer.Argument(
            help="Le CTAIR (JSON) : public bpi, financements, actions (format de la proposition) et diagnostic"
        ),
    ],
) -> None:
    """Enregistre un CTAIR signé en 2019-2020, en cours, pour pouvoir l'élargir (ctai start --from-ctair) (JSON)."""
    from services.ctai import rework as ctai_rework_service

    signed = _day(signature_date)
    text = read_user_file(file, as_json=True)
    with user_errors(True), unit_of_work() as session:
        ctair = ctai_rework_service.register_ctair(
            session, collectivite_id=collectivite, signature_date=signed, text=text
        )
        result = {
            "ctai_id": ctair.id,
            "reference": ctair.reference,
            "type": ctair.kind,
            "statut": ctair.status,
            "annees": [ctair.first_year, ctair.last_year],
        }
    print_json(result)


def ctai_review(
    ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)],
    annee: Annotated[
        int | None,
        typer.Option(
            "--annee",
            help="Année dont le bilan est fait (par défaut : la dernière année financée dont le bilan reste à faire)",
            **YEAR,
        ),
    ] = None,
) -> None:
    """Ouvre le bilan annuel (année Y) d'un contrat en cours et lance l'étape (JSON)."""
    with user_errors(True):
        require_prefect()
        with unit_of_work() as session:
            ctai = ctai_workflow.open_yearly_review(session, ctai_id, annee)
            year = ctai.review_year
        run_id = asyncio.run(start_case_step(kind("ctai"), ctai_id, f"review-{year}"))
    print_json({"ctai_id": ctai_id, "annee": year, "flow_run_id": run_id})


def ctai_resume(ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)]) -> None:
    """Reprend l'étape en cours d'un contrat : son exécution telle quelle si elle vit, relancée si
    elle a échoué, planté ou été annulée, recréée si Prefect ne la connaît plus (JSON)."""
    print_json({"ctai_id": ctai_id, **_resume("ctai", ctai_id)})


def ptai_resume(request_id: Annotated[int, typer.Argument(help="N° de la demande", **ID)]) -> None:
    """Reprend l'étape en cours d'une demande : son exécution telle quelle si elle vit, relancée si
    elle a échoué, planté ou été annulée, recréée si Prefect ne la connaît plus (JSON)."""
    print_json({"request_id": request_id, **_resume("ptai", request_id)})


def _resume(case: str, entity_id: int) -> dict:
    from services.followup.recovery import resume_case

    with user_errors(True):
        require_prefect()
        return asyncio.run(resume_case(case, entity_id))


def ptai_complete(
    request_id: Annotated[int, typer.Argument(help="N° de la demande", **ID)],
    file: Annotated[Path, typer.Argument(help="La demande complétée (JSON)")],
) -> None:
    """Le demandeur répond à une demande de compléments ; l'instruction reprend (JSON)."""
    from services.ptai import workflow as ptai_workflow

    text = read_user_file(file, as_json=True)
    with user_errors(True):
        with unit_of_work() as session:
            request, decision_id = ptai_workflow.complete(session, request_id, text)
        run_id, warning = start_or_warn("ptai", request_id, f"d{decision_id}")
    print_json(
        {
            "request_id": request_id,
            "reference": request.reference,
            "statut": request.status,
            "flow_run_id": run_id,
            **({"avertissement": warning} if warning else {}),
        }
    )


@approvals_app.command("list")
def approvals_list(
    departement: Annotated[str | None, typer.Option(help="Code du département")] = None,
    role: Annotated[str | None, typer.Option(help="Rôle attendu")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Les exécutions qui attendent une décision, avec les champs de leur formulaire ; puis les
    étapes interrompues par un incident (exécution en échec, plantée, annulée), à reprendre."""
    with user_errors(as_json):
        require_prefect()
        runs = [
            {"etat": "en attente", **r.as_dict()}
            for r in asyncio.run(waiting_runs.list_waiting(departement=departement, role=role))
        ]
        interrupted = asyncio.run(interrupted_steps(departement=departement, role=role))
    if as_json:
        print_json(runs + interrupted)
        return
    print_table(
        runs,
        [
            ("run_id", "exécution"),
            ("name", "nom"),
            ("awaited_role", "rôle attendu"),
            ("departement", "dépt"),
            ("waiting_since", "en attente depuis"),
        ],
    )
    if interrupted:
        typer.echo("\nÉtapes interrompues (elles seront reprises par « territoires steps repair », ou chaque jour) :")
        print_table(
            interrupted,
            [
                ("run_id", "exécution"),
                ("name", "nom"),
                ("awaited_role", "rôle attendu"),
                ("departement", "dépt"),
                ("incident", "incident"),
                ("incident_le", "depuis"),
            ],
        )


@approvals_app.command("decide")
def approvals_decide(
    run_id: str,
    agent: Annotated[str, typer.Option(help="Votre courriel professionnel")],
    code: Annotated[
        str,
        typer.Option(
            help="Code d'approbation reçu par courriel (demandé sans affichage s'il est omis)",
            prompt="Code d'approbation",
            hide_input=True,
        ),
    ],
    decision: Annotated[
        str, typer.Option(help="Décision, telle que le formulaire la libelle ou par son code (voir approvals list)")
    ],
    comment: Annotated[str | None, typer.Option(help="Commentaire ou motif")] = None,
    field: Annotated[list[str], typer.Option("--field", help="Champ du formulaire : nom=valeur")] = [],
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Attendre le verdict du flux")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Envoie exactement ce qu'enverrait le formulaire de l'interface Prefect."""
    with user_errors(as_json):
        require_prefect()
        waiting = {r.run_id: r for r in asyncio.run(waiting_runs.list_waiting())}.get(run_id)
        if waiting is None:
            raise waiting_runs.RunNotWaiting(
                f"[{waiting_runs.RunNotWaiting.code}] l'exécution {run_id} n'attend aucune décision"
            )
        raw = dict(item.split("=", 1) for item in field if "=" in item)
        run_input = {
            "agent_email": agent,
            "approval_code": code,
            "decision": waiting_runs.decision_for(waiting, decision),
            **({"comment": comment} if comment else {}),
            **waiting_runs.coerce(waiting.fields, raw),
        }
        asyncio.run(waiting_runs.answer(run_id, run_input))
        verdict = None
        attempt = waiting_runs.attempt_of(waiting.pause_key)
        if wait and attempt is not None:
            verdict = asyncio.run(waiting_runs.wait_for_judgement(unit_of_work, run_id, attempt))
    result = {"run_id": run_id, "envoye": run_input | {"approval_code": "••••"}, "verdict": verdict}
    if as_json:
        print_json(result)
    elif verdict is None:
        typer.echo("Réponse transmise ; le verdict n'est pas encore connu.")
    elif verdict["resultat"] == "accepted":
        typer.echo("Décision acceptée et enregistrée.")
    else:
        typer.echo("Décision refusée :", err=True)
        for e in verdict["erreurs"]:
            typer.echo(f"  - [{e['code']}] {e['message']}", err=True)
    if verdict is not None and verdict["resultat"] != "accepted":
        raise typer.Exit(2)


@approvals_app.command("unlock")
def approvals_unlock(
    run_id: Annotated[str, typer.Argument(help="L'exécution de l'étape (voir le courriel d'alerte)")],
    agent: Annotated[str, typer.Option(help="Courriel de l'agent dont les réponses sont bloquées")],
    by: Annotated[str, typer.Option("--by", help="Votre courriel (préfet du département ou administrateur)")],
    code: Annotated[
        str,
        typer.Option(
            help="Votre code de déblocage, reçu dans le courriel d'alerte (demandé sans affichage s'il est omis)",
            prompt="Code de déblocage",
            hide_input=True,
        ),
    ],
    comment: Annotated[str | None, typer.Option(help="Motif du déblocage")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Débloque les réponses d'un agent après des codes erronés ; il reçoit un nouveau code."""
    from notifications.sender import OutboxSender
    from notifications.smtp import smtp_target
    from services.db import get_engine
    from services.engine import lockout, prefect_api, runs

    with user_errors(as_json):
        with unit_of_work() as session:  # a refusal is committed too: a wrong code counts against the unlocker
            run = runs.for_run(session, run_id.strip()[:36])
            if run is None:
                raise waiting_runs.RunNotWaiting(
                    f"[{waiting_runs.RunNotWaiting.code}] aucune étape n'est inscrite pour l'exécution {run_id[:36]}"
                )
            problems = lockout.unlock(
                session,
                kind(run.entity_type),
                run,
                locked_email=agent,
                by_email=by,
                code=code,
                comment=comment,
                link=prefect_api.run_link(run.flow_run_id),
            )
        if problems:
            fail(problems, as_json=as_json)
        asyncio.run(OutboxSender(get_engine(), smtp_target()).send_pending())
    result = {"ok": True, "execution": run_id, "agent": agent.strip().lower()}
    print_json(result) if as_json else typer.echo(
        f"Réponses de {result['agent']} débloquées ; un nouveau code lui est envoyé."
    )


def serve(
    limit: Annotated[int | None, typer.Option(help="Exécutions simultanées au plus", min=1, max=1000)] = None,
) -> None:
    """Sert toutes les étapes (déploiements Prefect) depuis ce processus ; au démarrage, reprend
    les étapes qu'un arrêt a interrompues (territoires steps repair)."""
    from cli.processes import serve_until_stopped
    from cli.steps import repair_in_background
    from deployments import serve_all

    with user_errors(False):
        require_prefect()
    repair_in_background()
    code = serve_until_stopped(lambda: serve_all(limit=limit), "service-des-deploiements")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the serving thread is not waited for: its runs are stopped already
