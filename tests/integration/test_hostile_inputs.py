"""Input as an attacker or a careless user types it, through the real command line: each class
of bad input exits 2 with its stable code and a French message, never a traceback, and nothing
is stored. On both databases."""

import json

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import models.tables  # noqa: F401 - registers every table on SQLModel.metadata
from demo.data import fictitious_siren, fictitious_siret
from services.db import get_engine
from tests.cli import run_main
from tests.factories import valid_request

MINISTERE, INSTRUCTEUR = "ministere@interieur.example", "instructeur.76@prefecture-76.example"
OTHER_SIRET = fictitious_siret(61)


@pytest.fixture
def platform_data(app_env, tmp_path):
    """The example's collectivité, a ministry officer, an instructeur, and one request filed."""
    data = valid_request()
    for args in (
        ("seed", "reference"),
        (
            "collectivite",
            "add",
            "--name",
            "Ville du Havre",
            "--type",
            "commune",
            "--departement",
            "76",
            "--siren",
            data["demandeur"]["siren"],
            "--email",
            "integration@lehavre.example",
        ),
        ("agent", "add", "--email", MINISTERE, "--name", "DGEF", "--role", "ministere"),
        (
            "agent",
            "add",
            "--email",
            INSTRUCTEUR,
            "--name",
            "Instructeur",
            "--role",
            "instructeur",
            "--departement",
            "76",
        ),
    ):
        assert run_main(*args)[0] == 0, args
    first = tmp_path / "premiere.json"
    first.write_text(json.dumps(data), encoding="utf-8")
    status, out, err = run_main("ptai", "submit", str(first), "--json")
    assert status == 0, err
    return app_env


def _rows(url) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {
            t.name: conn.execute(text(f'SELECT COUNT(*) FROM "{t.name}"')).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def _codes(out: str, err: str) -> list[str]:
    """The codes a refusal printed: JSON for the commands that speak JSON, else the error stream."""
    import re

    if out.lstrip().startswith("{"):
        return [e["code"] for e in json.loads(out)["erreurs"]]
    assert "Refusé" in err
    return re.findall(r"\[([A-Z0-9_]+)\]", err)


def _file(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def request_with(**changes):
    return valid_request(**{"projet.intitule": "Un autre projet d'accueil", **changes})


FILE_CASES = {
    "a 1 MB text field": (request_with(**{"projet.objectifs": "x" * 1_000_000}), "TEXTE_TROP_LONG"),
    "a 2 MB file": ("{" + " " * 2_000_000 + "}", "FICHIER_TROP_GROS"),
    "a request above the campaign's ceiling": (
        request_with(**{"budget.montant_demande_eur": "2000000.00", "budget.cout_total_eur": "4000000.00"}),
        "MONTANT_PLAFOND",
    ),
    "a 1e12 euros request": (request_with(**{"budget.montant_demande_eur": "1000000000000"}), "CHAMP_INVALIDE"),
    "a 1e18 euros request": (request_with(**{"budget.montant_demande_eur": "1e18"}), "CHAMP_INVALIDE"),
    "NaN euros": (request_with(**{"budget.montant_demande_eur": "NaN"}), "CHAMP_INVALIDE"),
    "an infinite cost": (request_with(**{"budget.cout_total_eur": "Infinity"}), "CHAMP_INVALIDE"),
    "a zero-width space in the title": (
        request_with(**{"projet.intitule": "Ateliers\u200b d'accueil"}),
        "TEXTE_CARACTERES_INTERDITS",
    ),
    "a right-to-left override in a name": (
        request_with(**{"porteur.nom": "Asso \u202eeliof"}),
        "TEXTE_CARACTERES_INTERDITS",
    ),
    "a NUL in the objectives": (request_with(**{"projet.objectifs": "Accueillir\u0000"}), "TEXTE_CARACTERES_INTERDITS"),
    "a control character in a financeur": (
        request_with(**{"budget.cofinancements": [{"financeur": "CAF\u001b[31m", "montant_eur": "10.00"}]}),
        "TEXTE_CARACTERES_INTERDITS",
    ),
    "a blank association name": (request_with(**{"porteur.nom": "   "}), "TEXTE_VIDE"),
    "a line break in an email (header injection)": (
        request_with(**{"porteur.email": "a@b.example\nBcc: x@y.example", "porteur.siret": OTHER_SIRET}),
        "TEXTE_CARACTERES_INTERDITS",
    ),
    "the same request filed twice": (
        valid_request(**{"projet.intitule": "  ATELIERS parents-enfants pour les familles primo-arrivantes "}),
        "DEMANDE_EN_DOUBLE",
    ),
    "a known SIRET under another name": (
        request_with(**{"porteur.nom": "Une tout autre association"}),
        "PORTEUR_SIRET_DISCORDANT",
    ),
    "a known SIRET with another email": (
        request_with(**{"porteur.email": "autre@asso.example"}),
        "PORTEUR_SIRET_DISCORDANT",
    ),
    "deeply nested JSON": ("[" * 100_000 + "]" * 100_000, "JSON_INVALIDE"),
    "a date in year 9999": (request_with(**{"projet.date_fin": "9999-12-31"}), "PERIODE_HORS_CAMPAGNE"),
    "a campaign in year 99999": (request_with(**{"campagne": 99999}), "CHAMP_INVALIDE"),
    "a file that is not UTF-8": (b"\xff\xfe{\x00}", "FICHIER_ILLISIBLE"),
    "an empty file": ("", "JSON_INVALIDE"),
    "a JSON array instead of a request": ("[1, 2]", "CHAMP_INVALIDE"),
    "a million and one beneficiaries": (
        request_with(**{"projet.public.nombre_beneficiaires": 1_000_001}),
        "CHAMP_INVALIDE",
    ),
    "two hundred cofinancements": (
        request_with(**{"budget.cofinancements": [{"financeur": "F", "montant_eur": "1.00"}] * 200}),
        "TROP_D_ELEMENTS",
    ),
    "a malformed RNA": (request_with(**{"porteur.rna": "W12"}), "CHAMP_INVALIDE"),
    "an amount with three decimals": (request_with(**{"budget.montant_demande_eur": 18000.005}), "CHAMP_INVALIDE"),
}


@pytest.mark.parametrize("case", FILE_CASES)
def test_a_hostile_request_file_is_refused_with_its_code_and_stores_nothing(platform_data, tmp_path, case):
    content, expected = FILE_CASES[case]
    before = _rows(platform_data)
    status, out, err = run_main("ptai", "submit", _file(tmp_path, "demande.json", content), "--json")
    assert status == 2 and "Traceback" not in out + err
    assert expected in [e["code"] for e in json.loads(out)["erreurs"]]
    assert _rows(platform_data) == before


COMMAND_CASES = {
    "an id of 10^20": (("ptai", "show", str(10**20)), "USAGE_VALEUR_INVALIDE"),
    "an id of 0": (("ctai", "show", "0"), "USAGE_VALEUR_INVALIDE"),
    "an id that is not a number": (("delegation", "export", "abc"), "USAGE_VALEUR_INVALIDE"),
    "an unknown option": (("ptai", "show", "1", "--bogus"), "USAGE_OPTION_INCONNUE"),
    "an unknown command": (("ptai", "supprimer", "1"), "USAGE_COMMANDE_INCONNUE"),
    "a missing option": (("agent", "add", "--email", "x@y.example"), "USAGE_PARAMETRE_MANQUANT"),
    "an unknown role": (
        ("agent", "add", "--email", "x@y.example", "--name", "X", "--role", "chef"),
        "USAGE_VALEUR_INVALIDE",
    ),
    "a missing file": (("ptai", "submit", "/nulle/part/demande.json"), "FICHIER_INTROUVABLE"),
    "a directory as a file": (("ctai", "propose", "1", "/tmp"), "FICHIER_ILLISIBLE"),
    "an envelope in scientific notation": (
        ("envelope", "set", "--year", "2021", "--amount", "1e30", "--agent", MINISTERE),
        "MONTANT_INVALIDE",
    ),
    "a NaN envelope": (
        ("envelope", "set", "--year", "2021", "--amount", "NaN", "--agent", MINISTERE),
        "MONTANT_INVALIDE",
    ),
    "an envelope above its ceiling": (
        ("envelope", "set", "--year", "2021", "--amount", "100000000,01", "--agent", MINISTERE),
        "MONTANT_PLAFOND",
    ),
    "an envelope set by an instructeur": (
        ("envelope", "set", "--year", "2021", "--amount", "9000000", "--agent", INSTRUCTEUR),
        "AGENT_NON_HABILITE",
    ),
    "an envelope for an unknown campaign": (
        ("envelope", "set", "--year", "2099", "--amount", "9000000", "--agent", MINISTERE),
        "CAMPAGNE_INCONNUE",
    ),
    "an agent name with a line break": (
        (
            "agent",
            "add",
            "--email",
            "x@prefecture-76.example",
            "--name",
            "Jean\nBcc: x",
            "--role",
            "instructeur",
            "--departement",
            "76",
        ),
        "TEXTE_CARACTERES_INTERDITS",
    ),
    "a 5000 character agent name": (
        (
            "agent",
            "add",
            "--email",
            "x@prefecture-76.example",
            "--name",
            "J" * 5000,
            "--role",
            "instructeur",
            "--departement",
            "76",
        ),
        "TEXTE_TROP_LONG",
    ),
    "a collectivité name with a zero-width joiner": (
        (
            "collectivite",
            "add",
            "--name",
            "Ville\u200d",
            "--type",
            "commune",
            "--departement",
            "76",
            "--siren",
            fictitious_siren(77),
            "--email",
            "v@x.example",
        ),
        "TEXTE_CARACTERES_INTERDITS",
    ),
    "a porteur with a malformed RNA": (
        ("porteur", "add", "--name", "Asso", "--siret", OTHER_SIRET, "--email", "a@b.example", "--rna", "X123"),
        "CHAMP_INVALIDE",
    ),
    "reminders in year 9999": (("reminders", "run", "--date", "9999-12-31"), "DATE_HORS_BORNES"),
    "reminders on a date in another format": (("reminders", "run", "--date", "31/12/2026"), "DATE_INVALIDE"),
    "a contract of 99 years": (("ctai", "start", "--collectivite", "1", "--years", "99"), "USAGE_VALEUR_INVALIDE"),
    "an unlock for a run that does not exist": (
        ("approvals", "unlock", "x" * 500, "--agent", INSTRUCTEUR, "--by", MINISTERE, "--code", "AAAA-BBBB"),
        "EXECUTION_NON_EN_ATTENTE",
    ),
}


@pytest.mark.parametrize("case", COMMAND_CASES)
def test_a_hostile_command_line_is_refused_with_its_code_and_stores_nothing(platform_data, case):
    args, expected = COMMAND_CASES[case]
    before = _rows(platform_data)
    status, out, err = run_main(*args)
    assert status == 2 and "Traceback" not in out + err, out + err
    assert expected in _codes(out, err), out + err
    assert _rows(platform_data) == before


def test_an_error_no_rule_foresaw_still_ends_as_a_french_message_with_a_code(platform_data, monkeypatch):
    from services.ptai import records

    def broken(session, request_id):
        raise ZeroDivisionError("division par zéro")

    monkeypatch.setattr(records, "show", broken)
    status, out, err = run_main("ptai", "show", "1", "--json")
    assert status == 2 and "Traceback" not in out + err
    assert json.loads(out)["erreurs"][0]["code"] == "CALCUL_IMPOSSIBLE"
