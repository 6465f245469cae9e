"""``territoires``: the operators' and agents' command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cli import french
from cli.output import ID, fail, print_json, print_table, read_user_file, redacted_url, user_errors
from models.actors import (
    AgentCreate,
    AgentPublic,
    CollectiviteCreate,
    CollectivitePublic,
    CollectiviteType,
    PorteurCreate,
    PorteurPublic,
    Role,
)
from models.cerfa import request_json_schema
from models.errors import Violation
from models.money import format_eur
from models.types import to_paris
from services import registry
from services.ctai import records as ctai_records
from services.db import unit_of_work
from services.ptai import records as ptai_records
from settings import get_settings

french.install()
app = typer.Typer(
    help="Territoires d'intégration : contrats (CTAI) et projets (PTAI).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
seed_app = typer.Typer(help="Données de référence et de démonstration.", no_args_is_help=True)
agent_app = typer.Typer(help="Agents de l'État.", no_args_is_help=True)
collectivite_app = typer.Typer(help="Collectivités.", no_args_is_help=True)
porteur_app = typer.Typer(help="Porteurs (associations).", no_args_is_help=True)
ptai_app = typer.Typer(help="Projets territoriaux (PTAI).", no_args_is_help=True)
ctai_app = typer.Typer(help="Contrats territoriaux (CTAI).", no_args_is_help=True)
from cli.mail import mail_app, mail_sink  # noqa: E402

app.add_typer(mail_app, name="mail")
app.command("mail-sink")(mail_sink)
from cli.workflow import register as register_workflow  # noqa: E402

register_workflow(ctai_app, ptai_app, app)
from cli.delegation import register as register_delegation  # noqa: E402

register_delegation(app)
from cli.pilotage import register as register_pilotage  # noqa: E402

register_pilotage(app)
from cli.acts import register as register_acts  # noqa: E402

register_acts(app)
from cli.acts import acte_app  # noqa: E402
from cli.listings import register as register_listings  # noqa: E402

register_listings(app, ctai_app, ptai_app, acte_app)
from cli.dashboard import tableau_de_bord  # noqa: E402

app.command("tableau-de-bord")(tableau_de_bord)
from cli.reminders import reminders_app  # noqa: E402

app.add_typer(reminders_app, name="reminders")
from cli.audit import audit_app  # noqa: E402
from cli.steps import steps_app  # noqa: E402
from cli.up import up  # noqa: E402

app.command("up")(up)
for sub, name in (
    (db_app, "db"),
    (seed_app, "seed"),
    (agent_app, "agent"),
    (collectivite_app, "collectivite"),
    (porteur_app, "porteur"),
    (ptai_app, "ptai"),
    (ctai_app, "ctai"),
    (audit_app, "audit"),
    (steps_app, "steps"),
):
    app.add_typer(sub, name=name)

JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]


# --- db and seeds -------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Crée ou met à jour le schéma de la base (migrations Alembic)."""
    from services.migrate import upgrade

    url = get_settings().resolved_database_url
    upgrade(url)
    typer.echo(f"Base à jour : {redacted_url(url)}")


@db_app.command("grants")
def db_grants(
    role: Annotated[str, typer.Option(help="Rôle PostgreSQL de l'application (sans droits de propriétaire)")],
) -> None:
    """Affiche les droits PostgreSQL du rôle de l'application, à exécuter par l'administrateur après les migrations."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from migrations.grants import application_grants
    from services.db import get_engine

    url = get_settings().resolved_database_url
    if make_url(url).get_backend_name() != "postgresql":
        fail(
            [
                Violation(
                    "BASE_NON_POSTGRESQL",
                    "database_url",
                    "les droits par rôle concernent PostgreSQL : TERRITOIRES_DATABASE_URL désigne une autre base",
                )
            ],
            as_json=False,
        )
    try:
        statements = application_grants(role, make_url(url).database or "", inspect(get_engine(url)).get_table_names())
    except ValueError as exc:
        fail([Violation("ROLE_INVALIDE", "role", str(exc))], as_json=False)
    typer.echo(";\n".join(statements) + ";")


@seed_app.command("reference")
def seed_reference(as_json: JsonOpt = False) -> None:
    """Charge les 101 départements."""
    with unit_of_work() as session:
        count = registry.seed_reference(session)
    print_json({"departements": count}) if as_json else typer.echo(f"{count} départements chargés.")


@seed_app.command("demo")
def seed_demo(as_json: JsonOpt = False) -> None:
    """Charge les exemples réels (Poitiers, Le Havre, Tours, …) avec des identifiants FICTIFS."""
    from cli.demo_program import run_demo

    with user_errors(as_json):
        created = run_demo("seed")
    if as_json:
        print_json(created)
    else:
        typer.echo(
            "Données de démonstration chargées (SIREN, SIRET et courriels fictifs) : "
            + ", ".join(f"{k} +{v}" for k, v in created.items())
        )


@seed_app.command("national")
def seed_national(
    year: Annotated[
        int, typer.Option("--year", "--annee", help="Année des chiffres nationaux (2023)", min=2023, max=2023)
    ] = 2023,
    as_json: JsonOpt = False,
) -> None:
    """Charge un jeu national FICTIF dont les totaux sont les chiffres publiés pour 2023 : 44 territoires
    (28 communes, 13 métropoles ou EPCI, 2 départements, 1 région) et 11 000 000 €."""
    from cli.demo_program import run_demo

    with user_errors(as_json):
        created = run_demo("national", args=(str(year),))
    if as_json:
        print_json(created)
    else:
        typer.echo(
            f"Jeu national {year} chargé (territoires, SIREN, dates et répartitions fictifs) : "
            + ", ".join(f"{k} +{v}" for k, v in created.items())
        )


# --- actors -------------------------------------------------------------------------------------


@agent_app.command("add")
def agent_add(
    email: Annotated[str, typer.Option(help="Courriel de l'agent")],
    name: Annotated[str, typer.Option(help="Nom et prénom")],
    role: Annotated[Role, typer.Option(help="Rôle")],
    departement: Annotated[str | None, typer.Option(help="Code du département (sauf rôles nationaux)")] = None,
    titre: Annotated[
        str | None,
        typer.Option(
            "--titre",
            help="Titre sous lequel il signe « Pour le préfet et par délégation », "
            "par exemple « la secrétaire générale de la préfecture »",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enregistre un agent."""
    with user_errors(as_json):
        data = AgentCreate(email=email, name=name, role=role, departement_code=departement, title=titre)
        with unit_of_work() as session:
            row = registry.add_agent(session, data)
    _print_one(AgentPublic.model_validate(row).model_dump(mode="json"), as_json, f"Agent n° {row.id} enregistré.")


@agent_app.command("list")
def agent_list(as_json: JsonOpt = False) -> None:
    with unit_of_work() as session:
        rows = [AgentPublic.model_validate(a).model_dump(mode="json") for a in registry.list_agents(session)]
    _print_many(
        rows,
        as_json,
        [("id", "n°"), ("email", "courriel"), ("name", "nom"), ("role", "rôle"), ("departement_code", "dépt")],
    )


@collectivite_app.command("add")
def collectivite_add(
    name: Annotated[str, typer.Option(help="Nom de la collectivité")],
    type: Annotated[CollectiviteType, typer.Option(help="Type de collectivité")],
    departement: Annotated[str, typer.Option(help="Code du département")],
    siren: Annotated[str, typer.Option(help="SIREN (9 chiffres)")],
    email: Annotated[str, typer.Option(help="Courriel de contact")],
    siret: Annotated[
        str | None,
        typer.Option(
            help="SIRET de son siège (14 chiffres) : il identifie "
            "la collectivité bénéficiaire dans les données ouvertes"
        ),
    ] = None,
    appellation: Annotated[
        str | None,
        typer.Option(
            help="Comment ses courriers s'adressent à son exécutif, par exemple « Madame la maire » "
            "(à défaut : « Madame, Monsieur »)"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enregistre une collectivité."""
    with user_errors(as_json):
        data = CollectiviteCreate(
            name=name,
            type=type,
            departement_code=departement,
            siren=siren,
            email=email,
            siret=siret,
            appellation=appellation,
        )
        with unit_of_work() as session:
            row = registry.add_collectivite(session, data)
    _print_one(
        CollectivitePublic.model_validate(row).model_dump(mode="json"),
        as_json,
        f"Collectivité n° {row.id} enregistrée.",
    )


@collectivite_app.command("list")
def collectivite_list(as_json: JsonOpt = False) -> None:
    with unit_of_work() as session:
        rows = [
            CollectivitePublic.model_validate(c).model_dump(mode="json") for c in registry.list_collectivites(session)
        ]
    _print_many(
        rows,
        as_json,
        [
            ("id", "n°"),
            ("name", "nom"),
            ("type", "type"),
            ("departement_code", "dépt"),
            ("siren", "SIREN"),
            ("email", "courriel"),
        ],
    )


@porteur_app.command("add")
def porteur_add(
    name: Annotated[str, typer.Option(help="Nom de l'association")],
    siret: Annotated[str, typer.Option(help="SIRET (14 chiffres)")],
    email: Annotated[str, typer.Option(help="Courriel de contact")],
    rna: Annotated[str | None, typer.Option(help="Numéro RNA (W + 9 chiffres)")] = None,
    cultuelle: Annotated[bool, typer.Option("--cultuelle", help="Association cultuelle")] = False,
    compte_rendu_manquant: Annotated[
        bool, typer.Option("--compte-rendu-manquant", help="Dernier compte rendu financier manquant (R14)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Enregistre un porteur (association)."""
    with user_errors(as_json):
        data = PorteurCreate(
            name=name,
            siret=siret,
            email=email,
            rna=rna,
            cultuelle=cultuelle,
            compte_rendu_manquant=compte_rendu_manquant,
        )
        with unit_of_work() as session:
            row = registry.add_porteur(session, data)
    _print_one(PorteurPublic.model_validate(row).model_dump(mode="json"), as_json, f"Porteur n° {row.id} enregistré.")


@porteur_app.command("list")
def porteur_list(as_json: JsonOpt = False) -> None:
    with unit_of_work() as session:
        rows = [PorteurPublic.model_validate(p).model_dump(mode="json") for p in registry.list_porteurs(session)]
    _print_many(
        rows,
        as_json,
        [
            ("id", "n°"),
            ("name", "nom"),
            ("siret", "SIRET"),
            ("rna", "RNA"),
            ("cultuelle", "cultuelle"),
            ("compte_rendu_manquant", "CRF manquant"),
        ],
    )


# --- PTAI -----------------------------------------------------------------------------------------


@ptai_app.command("submit")
def ptai_submit(
    file: Annotated[Path, typer.Argument(help="Demande au format JSON (voir ptai schema)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Vérifier sans enregistrer")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Vérifie une demande de financement PTAI, l'enregistre et lance son instruction."""
    from cli.workflow import start_or_warn

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
        result["flow_run_id"], warning = start_or_warn("ptai", request.id, "submitted")
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


@ptai_app.command("show")
def ptai_show(
    request_id: Annotated[int, typer.Argument(help="N° de la demande", **ID)], as_json: JsonOpt = False
) -> None:
    """Affiche une demande PTAI et ses décisions."""
    with user_errors(as_json), unit_of_work() as session:
        data = ptai_records.show(session, request_id)
    if as_json:
        print_json(data)
        return
    typer.echo(f"{data['reference']} — {data['intitule']}")
    typer.echo(f"  Demandeur : {data['collectivite']['nom']} ({data['collectivite']['departement']})")
    if data["porteur"]:
        typer.echo(f"  Porteur : {data['porteur']['nom']} (SIRET {data['porteur']['siret']})")
    typer.echo(f"  Statut : {data['statut_libelle']}")
    typer.echo(f"  Montant demandé : {format_eur(data['montant_demande_cents'])} — acte : {data['acte_juridique']}")
    _print_decisions(data["decisions"])


@ptai_app.command("schema")
def ptai_schema(out: Annotated[Path | None, typer.Option(help="Écrire le schéma dans ce fichier")] = None) -> None:
    """Schéma JSON d'une demande (champs clés du Cerfa n°12156)."""
    text = json.dumps(request_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Schéma écrit dans {out}")
    else:
        typer.echo(text, nl=False)


# --- CTAI -----------------------------------------------------------------------------------------


@ctai_app.command("show")
def ctai_show(ctai_id: Annotated[int, typer.Argument(help="N° du contrat", **ID)], as_json: JsonOpt = False) -> None:
    """Affiche un contrat, ses financements, ses actions par domaine et ses décisions."""
    with user_errors(as_json), unit_of_work() as session:
        data = ctai_records.show(session, ctai_id)
    if as_json:
        print_json(data)
        return
    typer.echo(f"{data['reference']} — {data['collectivite']['nom']} ({data['collectivite']['departement']})")
    typer.echo(f"  Statut : {data['statut_libelle']} — public : {data['public']}")
    if data["signature_prefet"]:
        cosigned = data["cosignature_diair"]
        typer.echo(
            f"  Signé : préfet le {_day_fr(data['signature_prefet'])}, élu le {_day_fr(data['signature_elu'])}"
            + (f", co-signé par {cosigned['nom']} le {_day_fr(cosigned['date'])}" if cosigned else "")
        )
    if data["bilan_en_cours"]:
        typer.echo(f"  Bilan en cours : année {data['bilan_en_cours']}")
    for f in data["financement"]:
        typer.echo(
            f"  {f['annee']} : socle {format_eur(f['socle_cents'])}, complémentaire {format_eur(f['complementaire_cents'])}"
        )
    for domain, actions in data["actions_par_domaine"].items():
        typer.echo(f"  [{domain}]")
        for a in actions:
            act = {"arrete": "arrêté attributif", "convention": "convention"}.get(
                a["acte_juridique"] or "", "acte à déterminer"
            )
            typer.echo(
                f"    - n° {a['id']} {a['intitule']} ({a['annee']}) : {format_eur(a['montant_cents'])} "
                f"(P104 action {a['action_p104']}, {act})"
            )
    _print_decisions(data["decisions"])


# --- helpers --------------------------------------------------------------------------------------


def _day_fr(iso: str | None) -> str:
    return "?" if not iso else f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


def _print_one(row: dict, as_json: bool, message: str) -> None:
    print_json(row) if as_json else typer.echo(message)


def _print_many(rows: list[dict], as_json: bool, columns: list[tuple[str, str]]) -> None:
    print_json(rows) if as_json else print_table(rows, columns)


def _print_decisions(decisions: list[dict]) -> None:
    typer.echo("  Décisions :")
    for d in decisions:
        when = to_paris(datetime.fromisoformat(d["horodatage"])).strftime("%d/%m/%Y %H:%M")
        typer.echo(f"    {when}  {d['etape']} : {d['libelle']} — {d['acteur']}")


def main(argv: list[str] | None = None) -> None:
    """The console script: every error ends as a French message, a stable code and exit 2."""
    import sys

    from typer._click import exceptions as click_errors
    from typer.exceptions import Abort

    from cli.errors import usage_violation, violations_of
    from cli.output import EXIT_INVALID, report_errors

    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    try:
        result = app(args=args, standalone_mode=False, prog_name="territoires")
    except click_errors.NoArgsIsHelpError:
        sys.exit(EXIT_INVALID)  # the help was shown
    except click_errors.UsageError as exc:
        report_errors([usage_violation(exc)], as_json=as_json)
        sys.exit(EXIT_INVALID)
    except Abort:
        print("Interrompu.", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last net: never a traceback
        report_errors(violations_of(exc, _logs_folder()), as_json=as_json)
        sys.exit(EXIT_INVALID)
    sys.exit(result if isinstance(result, int) else 0)


def _logs_folder():
    try:
        return get_settings().data_dir / "logs"
    except Exception:  # noqa: BLE001 - settings themselves may be what failed
        return None
