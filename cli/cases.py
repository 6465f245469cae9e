"""``territoires ctai …`` and ``territoires ptai …``: the two kinds of case, their records (here),
their steps (``cli/workflow.py``) and their lists (``cli/listings.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import listings, workflow
from cli.output import (
    ID,
    JsonOpt,
    command,
    day,
    echo_fields,
    eur,
    print_decisions,
    print_json,
    read_user_file,
    user_errors,
)

ctai_app = typer.Typer()
ptai_app = typer.Typer()

ACT_LABELS = {"arrete": "arrêté attributif", "convention": "convention"}


# --- PTAI -----------------------------------------------------------------------------------------


@command(ptai_app, "deposer", "submit")
def ptai_submit(
    file: Annotated[Path, typer.Argument(help="Demande au format JSON (voir ptai schema)")],
    dry_run: Annotated[
        bool, typer.Option("--verification-seule", "--dry-run", help="Vérifier sans enregistrer")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Vérifie une demande de financement PTAI, l'enregistre et lance son instruction."""
    from services.db import unit_of_work
    from services.ptai import records as ptai_records

    text = read_user_file(file, as_json=as_json)
    with user_errors(as_json), unit_of_work() as session:
        request = ptai_records.submit(session, text)
        result = {
            "ok": True,
            "request_id": request.id,
            "reference": request.reference,
            "statut": request.status,
            "acte_juridique": request.legal_act,
            "verification_seule": dry_run,
        }
        if dry_run:
            session.rollback()
            result["request_id"] = result["reference"] = None
    if not dry_run:
        result["flow_run_id"], warning = workflow.start_or_warn("ptai", result["request_id"], "submitted")
        if warning:
            result["avertissement"] = warning
    if as_json:
        print_json(result)
    elif dry_run:
        typer.echo("Demande conforme à toutes les règles (vérification seule : rien n'a été enregistré).")
    else:
        typer.echo(f"Demande {result['reference']} enregistrée (n° {result['request_id']}).")
        typer.echo(
            f"Instruction lancée : exécution {result['flow_run_id']}"
            if result["flow_run_id"]
            else f"Attention : {result['avertissement']}"
        )


@command(ptai_app, "voir", "show")
def ptai_show(
    request_id: Annotated[int, typer.Argument(help="N° de la demande", **ID)], as_json: JsonOpt = False
) -> None:
    """Affiche une demande PTAI et ses décisions."""
    from services.db import unit_of_work
    from services.ptai import records as ptai_records

    with user_errors(as_json), unit_of_work() as session:
        data = ptai_records.show(session, request_id)
    if as_json:
        print_json(data)
        return
    typer.echo(f"{data['reference']} — {data['intitule']}")
    echo_fields(
        [
            ("Demandeur", f"{data['collectivite']['nom']} ({data['collectivite']['departement']})"),
            ("Porteur", f"{data['porteur']['nom']} (SIRET {data['porteur']['siret']})" if data["porteur"] else None),
            ("Campagne", data["campagne"]),
            ("Statut", data["statut_libelle"]),
            ("Montant demandé", eur(data["montant_demande_cents"])),
            (
                "Montant proposé",
                eur(data["montant_propose_cents"]) if data["montant_propose_cents"] is not None else None,
            ),
            (
                "Montant accordé",
                eur(data["montant_accorde_cents"]) if data["montant_accorde_cents"] is not None else None,
            ),
            ("Acte", ACT_LABELS.get(data["acte_juridique"] or "", "à déterminer")),
        ]
    )
    print_decisions("ptai", data["decisions"])


@command(ptai_app, "schema")
def ptai_schema(
    out: Annotated[
        Path | None, typer.Option("--sortie", "--out", help="Écrire le schéma dans ce fichier (nouveau)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Schéma JSON d'une demande (champs clés du Cerfa n° 12156)."""
    import json

    from cli.output import write_output
    from models.cerfa import request_json_schema

    text = json.dumps(request_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out:
        write_output(out, text, as_json=as_json)
        print_json({"fichier": str(out)}) if as_json else typer.echo(f"Schéma écrit dans {out}")
    else:
        typer.echo(text, nl=False)


# --- CTAI -----------------------------------------------------------------------------------------


@command(ctai_app, "voir", "show")
def ctai_show(ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)], as_json: JsonOpt = False) -> None:
    """Affiche un contrat, ses financements, ses actions par domaine et ses décisions."""
    from models.reference import PUBLIC_LABELS
    from services.ctai import records as ctai_records
    from services.db import unit_of_work

    with user_errors(as_json), unit_of_work() as session:
        data = ctai_records.show(session, ctai_id)
    if as_json:
        print_json(data)
        return
    typer.echo(f"{data['reference']} — {data['collectivite']['nom']} ({data['collectivite']['departement']})")
    cosigned = data["cosignature_diair"]
    echo_fields(
        [
            ("Statut", data["statut_libelle"]),
            ("Années", f"{data['annees'][0]} à {data['annees'][1]}"),
            ("Public", PUBLIC_LABELS.get(data["public"], data["public"])),
            ("Coordinateur", data["coordinateur"]),
            (
                "Signé",
                f"par le préfet le {day(data['signature_prefet'])}, par l'élu le {day(data['signature_elu'])}"
                + (f", co-signé par {cosigned['nom']} le {day(cosigned['date'])}" if cosigned else "")
                if data["signature_prefet"]
                else None,
            ),
            ("Bilan en cours", f"année {data['bilan_en_cours']}" if data["bilan_en_cours"] else None),
        ]
    )
    for f in data["financement"]:
        typer.echo(f"  {f['annee']} : socle {eur(f['socle_cents'])}, complémentaire {eur(f['complementaire_cents'])}")
    for domain, actions in data["actions_par_domaine"].items():
        typer.echo(f"  [{domain}]")
        for a in actions:
            act = ACT_LABELS.get(a["acte_juridique"] or "", "acte à déterminer")
            typer.echo(
                f"    - n° {a['id']} {a['intitule']} ({a['annee']}) : {eur(a['montant_cents'])} "
                f"(P104 action {a['action_p104']}, {act})"
            )
    print_decisions("ctai", data["decisions"])


workflow.register_ctai(ctai_app)
workflow.register_ptai(ptai_app)
listings.register_cases(ctai_app, ptai_app)
