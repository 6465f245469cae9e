"""``territoires agent|collectivite|porteur ajouter|liste``: the actors."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import JsonOpt, command, print_json, print_table, user_errors
from models.actors import CollectiviteType, Role

agent_app = typer.Typer()
collectivite_app = typer.Typer()
porteur_app = typer.Typer()


@command(agent_app, "ajouter", "add")
def agent_add(
    email: Annotated[str, typer.Option(help="Courriel de l'agent")],
    name: Annotated[str, typer.Option("--nom", "--name", help="Nom et prénom")],
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
    from models.actors import AgentCreate, AgentPublic
    from services import registry
    from services.db import unit_of_work

    with user_errors(as_json):
        data = AgentCreate(email=email, name=name, role=role, departement_code=departement, title=titre)
        with unit_of_work() as session:
            row = registry.add_agent(session, data)
            shown = AgentPublic.model_validate(row).model_dump(mode="json")
    print_json(shown) if as_json else typer.echo(f"Agent n° {shown['id']} enregistré.")


@command(agent_app, "liste", "list")
def agent_list(as_json: JsonOpt = False) -> None:
    """Les agents, leur rôle et leur département."""
    from models.actors import ROLE_LABELS, AgentPublic
    from services import registry
    from services.db import unit_of_work

    with user_errors(as_json), unit_of_work() as session:
        rows = [AgentPublic.model_validate(a).model_dump(mode="json") for a in registry.list_agents(session)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["role_libelle"] = ROLE_LABELS.get(Role(row["role"]), row["role"])
    print_table(
        rows,
        [("id", "n°"), ("email", "courriel"), ("name", "nom"), ("role_libelle", "rôle"), ("departement_code", "dépt")],
    )


@command(collectivite_app, "ajouter", "add")
def collectivite_add(
    name: Annotated[str, typer.Option("--nom", "--name", help="Nom de la collectivité")],
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
    from models.actors import CollectiviteCreate, CollectivitePublic
    from services import registry
    from services.db import unit_of_work

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
            shown = CollectivitePublic.model_validate(row).model_dump(mode="json")
    print_json(shown) if as_json else typer.echo(f"Collectivité n° {shown['id']} enregistrée.")


@command(collectivite_app, "liste", "list")
def collectivite_list(as_json: JsonOpt = False) -> None:
    """Les collectivités."""
    from models.actors import COLLECTIVITE_TYPE_LABELS, CollectivitePublic
    from services import registry
    from services.db import unit_of_work

    with user_errors(as_json), unit_of_work() as session:
        rows = [
            CollectivitePublic.model_validate(c).model_dump(mode="json") for c in registry.list_collectivites(session)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["type_libelle"] = COLLECTIVITE_TYPE_LABELS.get(CollectiviteType(row["type"]), row["type"])
    print_table(
        rows,
        [
            ("id", "n°"),
            ("name", "nom"),
            ("type_libelle", "type"),
            ("departement_code", "dépt"),
            ("siren", "SIREN"),
            ("email", "courriel"),
        ],
    )


@command(porteur_app, "ajouter", "add")
def porteur_add(
    name: Annotated[str, typer.Option("--nom", "--name", help="Nom de l'association")],
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
    from models.actors import PorteurCreate, PorteurPublic
    from services import registry
    from services.db import unit_of_work

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
            shown = PorteurPublic.model_validate(row).model_dump(mode="json")
    print_json(shown) if as_json else typer.echo(f"Porteur n° {shown['id']} enregistré.")


@command(porteur_app, "liste", "list")
def porteur_list(as_json: JsonOpt = False) -> None:
    """Les porteurs (associations)."""
    from models.actors import PorteurPublic
    from services import registry
    from services.db import unit_of_work

    with user_errors(as_json), unit_of_work() as session:
        rows = [PorteurPublic.model_validate(p).model_dump(mode="json") for p in registry.list_porteurs(session)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["cultuelle"] = "oui" if row["cultuelle"] else "non"
        row["compte_rendu_manquant"] = "oui" if row["compte_rendu_manquant"] else "non"
    print_table(
        rows,
        [
            ("id", "n°"),
            ("name", "nom"),
            ("siret", "SIRET"),
            ("rna", "RNA"),
            ("cultuelle", "cultuelle"),
            ("compte_rendu_manquant", "CRF manquant"),
        ],
    )
