"""The steps of a case from the command line: ``ctai lancer|proposer|retravailler|enregistrer-ctair|
ouvrir-bilan|bilan|reprendre``, ``ptai completer|reprendre``, ``approbations liste|decider|debloquer``
and ``servir``. The services and Prefect are imported inside the commands that use them."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.output import (
    ID,
    YEAR,
    JsonOpt,
    command,
    echo_fields,
    fail,
    moment,
    parse_day,
    print_json,
    print_table,
    read_user_file,
    user_errors,
    violation_line,
)
from cli.prefect_link import prefect_problem, require_prefect
from models.errors import Violation
from models.types import paris_today

approbations_app = typer.Typer()


def register_ctai(ctai_app: typer.Typer) -> None:
    command(ctai_app, "lancer", "start")(ctai_start)
    command(ctai_app, "proposer", "propose")(ctai_propose)
    command(ctai_app, "retravailler", "rework")(ctai_rework)
    command(ctai_app, "enregistrer-ctair", "register-ctair")(ctai_register_ctair)
    command(ctai_app, "ouvrir-bilan", "review")(ctai_review)
    command(ctai_app, "bilan")(ctai_transmit_review)
    command(ctai_app, "reprendre", "resume")(ctai_resume)


def register_ptai(ptai_app: typer.Typer) -> None:
    command(ptai_app, "completer", "complete")(ptai_complete)
    command(ptai_app, "reprendre", "resume")(ptai_resume)


def _case(name: str):
    from services.cases import kind

    return kind(name)


def _echo_started(run_id: str | None, warning: str | None = None) -> None:
    if run_id:
        typer.echo(f"Étape lancée : exécution {run_id}")
    if warning:
        typer.echo(f"Attention : {warning}", err=True)


def ctai_start(
    collectivite: Annotated[int, typer.Option(help="N° de la collectivité", **ID)],
    from_ctair: Annotated[int | None, typer.Option("--from-ctair", help="N° du CTAIR à élargir", **ID)] = None,
    first_year: Annotated[
        int, typer.Option("--premiere-annee", "--first-year", help="Première année du contrat", **YEAR)
    ] = paris_today().year + 1,
    years: Annotated[
        int | None,
        typer.Option("--annees", "--years", help="Durée en années (par défaut : celle de la campagne)", min=1, max=6),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Crée le contrat et lance sa première étape ; affiche le n° du contrat et de l'exécution."""
    from services.ctai import workflow as ctai_workflow
    from services.db import unit_of_work
    from services.engine.launch import start_case_step

    with user_errors(as_json):
        require_prefect()
        with unit_of_work() as session:
            ctai, created = ctai_workflow.create(
                session, collectivite_id=collectivite, first_year=first_year, years=years, from_ctair_id=from_ctair
            )
            ctai_id, reference = ctai.id, ctai.reference
        run_id = asyncio.run(start_case_step(_case("ctai"), ctai_id, "start"))
    result = {"ctai_id": ctai_id, "reference": reference, "flow_run_id": run_id, "nouveau": created}
    if as_json:
        print_json(result)
        return
    typer.echo(f"Contrat {reference} (n° {ctai_id}) {'créé' if created else 'déjà créé'}.")
    _echo_started(run_id)


def start_or_warn(case: str, entity_id: int, cause: str) -> tuple[str | None, str | None]:
    """For commands that store first: the record stays even when Prefect cannot be reached."""
    from services.engine.launch import start_case_step

    problem = prefect_problem()
    if problem:
        return (
            None,
            f"{problem} ; l'étape n'est pas lancée ; lancez-la ensuite avec : territoires {case} reprendre {entity_id}",
        )
    try:
        return asyncio.run(start_case_step(_case(case), entity_id, cause)), None
    except Exception as exc:  # noqa: BLE001 - any Prefect/network failure is reported, not raised
        return None, (
            f"l'étape n'a pas pu être lancée dans Prefect ({type(exc).__name__}: {exc}) ; "
            f"relancez-la avec : territoires {case} reprendre {entity_id}"
        )


def ctai_propose(
    ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)],
    file: Annotated[Path, typer.Argument(help="Proposition JSON : public, financements, actions")],
    as_json: JsonOpt = False,
) -> None:
    """Enregistre la proposition de contrat (actions, porteurs, montants) et montre les règles à respecter."""
    from services.ctai import proposal as ctai_proposal
    from services.db import unit_of_work

    text = read_user_file(file, as_json=as_json)
    with user_errors(as_json), unit_of_work() as session:
        warnings = ctai_proposal.propose(session, ctai_id, text)
    if as_json:
        print_json({"ok": True, "avertissements": [w.as_dict() for w in warnings]})
        return
    typer.echo("Proposition enregistrée.")
    for w in warnings:
        typer.echo(f"  ⚠ {violation_line(w)} (à corriger avant la validation)")


def _echo_case(result: dict, what: str) -> None:
    typer.echo(f"{what} : {result['reference']} (n° {result.get('ctai_id') or result.get('request_id')}).")
    _echo_started(result.get("flow_run_id"), result.get("avertissement"))


def ctai_rework(
    ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)],
    file: Annotated[
        Path,
        typer.Argument(
            help='Les actions retravaillées (JSON) : {"actions": [{"id": N, …}]}, '
            "au format des actions de la proposition"
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """La collectivité transmet les actions que la Diair lui a renvoyées ; la revue Diair reprend."""
    from services.ctai import rework as ctai_rework_service
    from services.db import unit_of_work

    text = read_user_file(file, as_json=as_json)
    with user_errors(as_json):
        with unit_of_work() as session:
            ctai, decision_id = ctai_rework_service.rework(session, ctai_id, text)
            reference, status = ctai.reference, ctai.status
        run_id, warning = start_or_warn("ctai", ctai_id, f"d{decision_id}")
    result = {
        "ctai_id": ctai_id,
        "reference": reference,
        "statut": status,
        "flow_run_id": run_id,
        **({"avertissement": warning} if warning else {}),
    }
    print_json(result) if as_json else _echo_case(result, "Actions retravaillées transmises pour le contrat")


def ctai_transmit_review(
    ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)],
    file: Annotated[
        Path,
        typer.Argument(
            help='Le bilan (JSON) : {"actions": [{"action_id": N, "realisee": true, '
            '"public_atteint": 40, "consomme_eur": "38000.00"}]}'
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Enregistre le bilan de l'année transmis par la collectivité, action par action ; l'instruction conclut
    ensuite."""
    from services.ctai import review as ctai_review_service
    from services.ctai import workflow as ctai_workflow
    from services.db import unit_of_work

    text = read_user_file(file, as_json=as_json)
    with user_errors(as_json), unit_of_work() as session:
        contract = ctai_workflow.CTAI.lock(session, ctai_id)
        review, count = ctai_review_service.record_transmitted_review(session, contract, text)
        result = {"ctai_id": ctai_id, "reference": contract.reference, "annee": review.year, "actions": count}
    if as_json:
        print_json(result)
    else:
        typer.echo(f"Bilan {result['annee']} du contrat {result['reference']} enregistré ({count} actions).")


def ctai_register_ctair(
    collectivite: Annotated[int, typer.Option(help="N° de la collectivité", **ID)],
    signature_date: Annotated[
        str,
        typer.Option(
            "--date-signature", "--signature-date", help="Date de signature par le préfet (AAAA-MM-JJ, en 2019 ou 2020)"
        ),
    ],
    file: Annotated[
        Path,
        typer.Argument(
            help="Le CTAIR (JSON) : public bpi, financements, actions (format de la proposition) et diagnostic"
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Enregistre un CTAIR signé en 2019-2020, en cours, pour pouvoir l'élargir (ctai lancer --from-ctair)."""
    from services.ctai import rework as ctai_rework_service
    from services.db import unit_of_work

    signed = parse_day(signature_date, "signature_date", as_json=as_json, what="la signature d'un CTAIR")
    text = read_user_file(file, as_json=as_json)
    with user_errors(as_json), unit_of_work() as session:
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
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"CTAIR {result['reference']} (n° {result['ctai_id']}) enregistré, "
            f"{result['annees'][0]} à {result['annees'][1]}."
        )


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
    as_json: JsonOpt = False,
) -> None:
    """Ouvre le bilan annuel (année Y) d'un contrat en cours et lance l'étape."""
    from services.ctai import workflow as ctai_workflow
    from services.db import unit_of_work
    from services.engine.launch import start_case_step

    with user_errors(as_json):
        require_prefect()
        with unit_of_work() as session:
            ctai = ctai_workflow.open_yearly_review(session, ctai_id, annee)
            year = ctai.review_year
        run_id = asyncio.run(start_case_step(_case("ctai"), ctai_id, f"review-{year}"))
    if as_json:
        print_json({"ctai_id": ctai_id, "annee": year, "flow_run_id": run_id})
    else:
        typer.echo(f"Bilan annuel {year} du contrat n° {ctai_id} ouvert.")
        _echo_started(run_id)


def ctai_resume(ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)], as_json: JsonOpt = False) -> None:
    """Reprend l'étape en cours d'un contrat : son exécution telle quelle si elle vit, relancée si
    elle a échoué, planté ou été annulée, recréée si Prefect ne la connaît plus."""
    result = {"ctai_id": ctai_id, **resume_case("ctai", ctai_id, as_json)}
    print_json(result) if as_json else echo_resumed(result)


def ptai_resume(
    request_id: Annotated[int, typer.Argument(help="N° de la demande", **ID)], as_json: JsonOpt = False
) -> None:
    """Reprend l'étape en cours d'une demande : son exécution telle quelle si elle vit, relancée si
    elle a échoué, planté ou été annulée, recréée si Prefect ne la connaît plus."""
    result = {"request_id": request_id, **resume_case("ptai", request_id, as_json)}
    print_json(result) if as_json else echo_resumed(result)


def resume_case(case: str, entity_id: int, as_json: bool) -> dict:
    from services.followup.recovery import resume_case as resume

    with user_errors(as_json):
        require_prefect()
        return asyncio.run(resume(case, entity_id))


def echo_resumed(result: dict) -> None:
    """What a resume did, in words: every field it returned, by name."""
    echo_fields([(key.replace("_", " "), value) for key, value in result.items()], indent="")


def ptai_complete(
    request_id: Annotated[int, typer.Argument(help="N° de la demande", **ID)],
    file: Annotated[Path, typer.Argument(help="La demande complétée (JSON)")],
    as_json: JsonOpt = False,
) -> None:
    """Le demandeur répond à une demande de compléments ; l'instruction reprend."""
    from services.db import unit_of_work
    from services.ptai import workflow as ptai_workflow

    text = read_user_file(file, as_json=as_json)
    with user_errors(as_json):
        with unit_of_work() as session:
            request, decision_id = ptai_workflow.complete(session, request_id, text)
            reference, status = request.reference, request.status
        run_id, warning = start_or_warn("ptai", request_id, f"d{decision_id}")
    result = {
        "request_id": request_id,
        "reference": reference,
        "statut": status,
        "flow_run_id": run_id,
        **({"avertissement": warning} if warning else {}),
    }
    print_json(result) if as_json else _echo_case(result, "Compléments enregistrés pour la demande")


# --- approbations ---------------------------------------------------------------------------------


@command(approbations_app, "liste", "list")
def approvals_list(
    departement: Annotated[str | None, typer.Option(help="Code du département (86, 2A, 974…)")] = None,
    role: Annotated[str | None, typer.Option(help="Rôle attendu : instructeur, prefet, diair, ministere")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Les exécutions qui attendent une décision, avec les champs de leur formulaire ; puis les
    étapes interrompues par un incident (exécution en échec, plantée, annulée), à reprendre."""
    from models.actors import ROLE_LABELS
    from services.db import unit_of_work
    from services.engine import waiting as waiting_runs
    from services.followup.recovery import interrupted_steps
    from services.reporting.listings import other_list_filter

    with user_errors(as_json):
        if departement is not None or role is not None:  # checked as the lists' filters are, first
            with unit_of_work() as session:
                flt = other_list_filter(session, departement=departement, awaited=role)
            departement, role = flt.departement, flt.awaited
        require_prefect()
        runs = [
            {"etat": "en attente", **r.as_dict()}
            for r in asyncio.run(waiting_runs.list_waiting(departement=departement, role=role))
        ]
        interrupted = asyncio.run(interrupted_steps(departement=departement, role=role))
    if as_json:
        print_json(runs + interrupted)
        return
    labels = {role.value: label for role, label in ROLE_LABELS.items()}
    for row in runs + interrupted:
        row["role_libelle"] = labels.get(row.get("awaited_role") or "", row.get("awaited_role"))
        row["depuis_le"] = moment(row.get("waiting_since"))
    if not runs:
        typer.echo("Aucune exécution n'attend de décision.")
    else:
        print_table(
            runs,
            [
                ("run_id", "exécution"),
                ("name", "nom"),
                ("role_libelle", "rôle attendu"),
                ("departement", "dépt"),
                ("depuis_le", "en attente depuis"),
            ],
        )
    if interrupted:
        typer.echo("\nÉtapes interrompues (elles seront reprises par « territoires etapes reparer », ou chaque jour) :")
        print_table(
            interrupted,
            [
                ("run_id", "exécution"),
                ("name", "nom"),
                ("role_libelle", "rôle attendu"),
                ("departement", "dépt"),
                ("incident", "incident"),
                ("incident_le", "depuis"),
            ],
        )


@command(approbations_app, "decider", "decide")
def approvals_decide(
    run_id: Annotated[str, typer.Argument(help="L'exécution de l'étape (voir approbations liste)")],
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
        str,
        typer.Option(help="Décision, telle que le formulaire la libelle ou par son code (voir approbations liste)"),
    ],
    comment: Annotated[str | None, typer.Option("--commentaire", "--comment", help="Commentaire ou motif")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--champ", "--field", help="Champ du formulaire : nom=valeur")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--attendre/--sans-attendre", "--wait/--no-wait", help="Attendre le verdict du flux")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Envoie exactement ce qu'enverrait le formulaire de l'interface Prefect."""
    from services.db import unit_of_work
    from services.engine import waiting as waiting_runs

    with user_errors(as_json):
        require_prefect()
        waiting = {r.run_id: r for r in asyncio.run(waiting_runs.list_waiting())}.get(run_id)
        if waiting is None:
            raise waiting_runs.RunNotWaiting(
                f"[{waiting_runs.RunNotWaiting.code}] l'exécution {run_id[:40]} n'attend aucune décision"
            )
        malformed = [item for item in field or () if "=" not in item]
        if malformed:
            fail(
                [Violation("CHAMP_MAL_FORME", "champ", f"« {item[:40]} » : nom=valeur attendu") for item in malformed],
                as_json=as_json,
            )
        raw = dict(item.split("=", 1) for item in field or ())
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


@command(approbations_app, "debloquer", "unlock")
def approvals_unlock(
    run_id: Annotated[str, typer.Argument(help="L'exécution de l'étape (voir le courriel d'alerte)")],
    agent: Annotated[str, typer.Option(help="Courriel de l'agent dont les réponses sont bloquées")],
    by: Annotated[str, typer.Option("--par", "--by", help="Votre courriel (préfet du département ou administrateur)")],
    code: Annotated[
        str,
        typer.Option(
            help="Votre code de déblocage, reçu dans le courriel d'alerte (demandé sans affichage s'il est omis)",
            prompt="Code de déblocage",
            hide_input=True,
        ),
    ],
    comment: Annotated[str | None, typer.Option("--commentaire", "--comment", help="Motif du déblocage")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Débloque les réponses d'un agent après des codes erronés ; il reçoit un nouveau code."""
    from notifications.sender import OutboxSender
    from notifications.smtp import smtp_target
    from services.db import get_engine, unit_of_work
    from services.engine import lockout, prefect_api, runs
    from services.engine import waiting as waiting_runs

    with user_errors(as_json):
        with unit_of_work() as session:  # a refusal is committed too: a wrong code counts against the unlocker
            run = runs.for_run(session, run_id.strip()[:36])
            if run is None:
                raise waiting_runs.RunNotWaiting(
                    f"[{waiting_runs.RunNotWaiting.code}] aucune étape n'est inscrite pour l'exécution {run_id[:36]}"
                )
            problems = lockout.unlock(
                session,
                _case(run.entity_type),
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
    limit: Annotated[
        int | None, typer.Option("--limite", "--limit", help="Exécutions simultanées au plus", min=1, max=1000)
    ] = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--reprise/--sans-reprise",
            hidden=True,  # « territoires up » sweeps itself, once the deployments are served (cli/up.py)
            help="Reprendre au démarrage les étapes interrompues",
        ),
    ] = True,
) -> None:
    """Sert toutes les étapes (déploiements Prefect) depuis ce processus ; au démarrage, reprend
    les étapes qu'un arrêt a interrompues (territoires etapes reparer)."""
    from cli.processes import announce_served, serve_until_stopped
    from cli.steps import repair_in_background
    from deployments import serve_all

    with user_errors(False):
        require_prefect()
    if repair:
        repair_in_background()
    code = serve_until_stopped(lambda: serve_all(limit, announce_served), "service-des-deploiements")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the serving thread is not waited for: its runs are stopped already
