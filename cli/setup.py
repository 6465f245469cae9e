"""``territoires donnees migrer|droits`` and ``territoires charger reference|demo|national``: the
database's schema and rights, the reference and demonstration data."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import JsonOpt, command, fail, print_json, redacted_url, user_errors
from models.errors import Violation

donnees_app = typer.Typer()
charger_app = typer.Typer()


@command(donnees_app, "migrer", "upgrade")
def db_upgrade(as_json: JsonOpt = False) -> None:
    """Crée ou met à jour le schéma de la base (migrations Alembic)."""
    from services.migrate import upgrade
    from settings import get_settings

    url = get_settings().resolved_database_url
    with user_errors(as_json):
        upgrade(url)
    if as_json:
        print_json({"ok": True, "base": redacted_url(url)})
    else:
        typer.echo(f"Base à jour : {redacted_url(url)}")


@command(donnees_app, "droits", "grants")
def db_grants(
    role: Annotated[str, typer.Option(help="Rôle PostgreSQL de l'application (sans droits de propriétaire)")],
    as_json: JsonOpt = False,
) -> None:
    """Affiche les droits PostgreSQL du rôle de l'application, à exécuter par l'administrateur après les migrations."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from migrations.grants import application_grants
    from services.db import get_engine
    from settings import get_settings

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
            as_json=as_json,
        )
    try:
        statements = application_grants(role, make_url(url).database or "", inspect(get_engine(url)).get_table_names())
    except ValueError as exc:
        fail([Violation("ROLE_INVALIDE", "role", str(exc))], as_json=as_json)
    if as_json:
        print_json({"role": role, "instructions": statements})
    else:
        typer.echo(";\n".join(statements) + ";")


@command(charger_app, "reference")
def seed_reference(as_json: JsonOpt = False) -> None:
    """Charge les 101 départements."""
    from services import registry
    from services.db import unit_of_work

    with user_errors(as_json), unit_of_work() as session:
        count = registry.seed_reference(session)
    print_json({"departements": count}) if as_json else typer.echo(f"{count} départements chargés.")


@command(charger_app, "demo")
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


@command(charger_app, "national")
def seed_national(
    year: Annotated[
        int, typer.Option("--annee", "--year", help="Année des chiffres nationaux (2023)", min=2023, max=2023)
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
