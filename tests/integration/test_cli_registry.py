"""Registering and listing actors through the CLI, on both databases."""

from demo.data import fictitious_siren, fictitious_siret
from tests.cli import run, run_json


def test_registered_actors_are_listed_as_json_with_their_ids(app_env):
    assert run("seed", "reference").exit_code == 0
    r, agent = run_json(
        "agent",
        "add",
        "--email",
        "Instructeur.86@Prefecture-86.example",
        "--name",
        "Agent Vienne",
        "--role",
        "instructeur",
        "--departement",
        "86",
    )
    assert r.exit_code == 0, r.output
    run("agent", "add", "--email", "diair@interieur.example", "--name", "Chargée de mission Diair", "--role", "diair")
    run(
        "collectivite",
        "add",
        "--name",
        "Ville de Poitiers",
        "--type",
        "commune",
        "--departement",
        "86",
        "--siren",
        fictitious_siren(1),
        "--email",
        "integration@poitiers.example",
    )
    run(
        "porteur",
        "add",
        "--name",
        "Toit du Monde",
        "--siret",
        fictitious_siret(7),
        "--email",
        "c@toit.example",
        "--rna",
        "W861000007",
    )

    _, agents = run_json("agent", "list")
    assert [(a["id"], a["email"], a["role"], a["departement_code"]) for a in agents] == [
        (agent["id"], "instructeur.86@prefecture-86.example", "instructeur", "86"),
        (agent["id"] + 1, "diair@interieur.example", "diair", None),
    ]
    _, collectivites = run_json("collectivite", "list")
    assert collectivites[0]["siren"] == fictitious_siren(1) and collectivites[0]["type"] == "commune"
    _, porteurs = run_json("porteur", "list")
    assert porteurs[0]["rna"] == "W861000007" and porteurs[0]["cultuelle"] is False and "id" in porteurs[0]


def test_an_invalid_siren_is_refused_with_exit_2_and_a_french_message(app_env):
    run("seed", "reference")
    r, out = run_json(
        "collectivite",
        "add",
        "--name",
        "Ville",
        "--type",
        "commune",
        "--departement",
        "86",
        "--siren",
        "123456789",
        "--email",
        "a@b.example",
    )
    assert r.exit_code == 2
    assert out["erreurs"][0]["field"] == "siren" and "SIREN invalide" in out["erreurs"][0]["message"]
    _, rows = run_json("collectivite", "list")
    assert rows == []


def test_an_unknown_departement_and_a_duplicate_agent_are_refused(app_env):
    run("seed", "reference")
    r, out = run_json(
        "agent", "add", "--email", "a@pref.example", "--name", "Agent", "--role", "prefet", "--departement", "99"
    )
    assert r.exit_code == 2 and out["erreurs"][0]["code"] == "DEPARTEMENT_INCONNU"
    assert (
        run(
            "agent", "add", "--email", "a@pref.example", "--name", "Agent", "--role", "prefet", "--departement", "86"
        ).exit_code
        == 0
    )
    r, out = run_json(
        "agent", "add", "--email", "a@pref.example", "--name", "Agent", "--role", "prefet", "--departement", "86"
    )
    assert r.exit_code == 2 and out["erreurs"][0]["code"] == "AGENT_DEJA_ENREGISTRE"
