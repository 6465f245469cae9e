"""Text, amounts, periods and identities as people type them: every class of bad input is
refused with its code before anything is stored."""

import json

import pytest
from pydantic import BaseModel, ValidationError

from models.actors import AgentCreate, CollectiviteCreate, Porteur, PorteurCreate
from models.cerfa import check_submission, parse_request_file, violations_from
from models.errors import RuleViolation
from models.money import parse_euros
from models.proposal import parse_proposal
from models.ptai import check_prefet_amount, comparable, duplicate_key
from models.reference import campaign_rules
from models.text import LongText, Name
from tests.factories import valid_request

RULES = campaign_rules(2021)


class Sample(BaseModel):
    name: Name
    text: LongText


def refusal(**fields) -> list[tuple[str, str]]:
    data = {"name": "Ville de Poitiers", "text": "Un texte."} | fields
    with pytest.raises(ValidationError) as exc:
        Sample.model_validate(data)
    return [(v.code, v.field) for v in violations_from(exc.value)]


@pytest.mark.parametrize(
    "char",
    [
        "\u0000",
        "\u0007",
        "\u001b",
        "\u007f",
        "\u0085",
        "\u200b",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u202e",
        "\u202a",
        "\u2066",
        "\u2069",
        "\u061c",
        "\u00ad",
        "\u2028",
        "\u2029",
        "\U000e0041",
        "\ue000",
        "\u0378",
        "\u3164",
        "\u2800",
    ],
)
def test_control_zero_width_and_bidirectional_characters_are_refused_in_every_text(char):
    assert refusal(name=f"Ville{char}de Poitiers") == [("TEXTE_CARACTERES_INTERDITS", "name")]
    assert refusal(text=f"un{char}texte") == [("TEXTE_CARACTERES_INTERDITS", "text")]


def test_a_name_holds_on_one_line_a_paragraph_may_break_lines():
    assert refusal(name="Jean\nBcc: x@y.example") == [("TEXTE_CARACTERES_INTERDITS", "name")]
    assert refusal(name="Jean\tDupont") == [("TEXTE_CARACTERES_INTERDITS", "name")]
    assert Sample(name="Jean Dupont", text="ligne 1\r\nligne 2").text == "ligne 1\nligne 2"


def test_text_is_stored_in_nfc_and_trimmed():
    decomposed = "Pe\u0301rigueux  "
    assert Sample(name=decomposed, text="x").name == "Périgueux"


@pytest.mark.parametrize("blank", ["", "   ", "\u00a0\u00a0", "\n", "\u0301\u0301", "...", "\u3000"])
def test_a_blank_name_is_refused(blank):
    assert refusal(name=blank)[0][0] in {"TEXTE_VIDE", "TEXTE_CARACTERES_INTERDITS"}


def test_every_text_has_a_maximum_length():
    assert refusal(name="x" * 201) == [("TEXTE_TROP_LONG", "name")]
    assert refusal(text="x" * 5001) == [("TEXTE_TROP_LONG", "text")]


@pytest.mark.parametrize(
    "model, fields",
    [
        (
            AgentCreate,
            {"email": "a@prefecture-86.example", "name": "Agent\u200b", "role": "prefet", "departement_code": "86"},
        ),
        (
            CollectiviteCreate,
            {
                "name": "Ville\u202e",
                "type": "commune",
                "siren": "999000011",
                "departement_code": "86",
                "email": "v@x.example",
            },
        ),
        (PorteurCreate, {"name": "  ", "siret": "99901401209011", "email": "a@b.example"}),
        (PorteurCreate, {"name": "Asso", "siret": "99901401209011", "email": "a@b.example\nBcc: x@y.example"}),
    ],
)
def test_the_actors_registered_by_hand_get_the_same_text_rules(model, fields):
    with pytest.raises(ValidationError) as exc:
        model.model_validate(fields)
    assert {v.code for v in violations_from(exc.value)} <= {"TEXTE_CARACTERES_INTERDITS", "TEXTE_VIDE"}


def test_the_rna_number_is_w_and_nine_digits():
    assert PorteurCreate(name="Asso", siret="99901401209011", email="a@b.example", rna="W123456789").rna == "W123456789"
    for rna in ("W12345678", "X123456789", "w123456789", "W12345678A", "W١٢٣٤٥٦٧٨٩", "W12345678²"):
        with pytest.raises(ValidationError, match="RNA"):
            PorteurCreate(name="Asso", siret="99901401209011", email="a@b.example", rna=rna)


def submission_codes(**changes) -> list[str]:
    f = parse_request_file(json.dumps(valid_request(**changes)))
    return [v.code for v in check_submission(f, collectivite_found=True, registered_porteur=None, rules=RULES)]


def test_amounts_above_the_campaign_ceilings_are_refused():
    assert submission_codes(**{"budget.montant_demande_eur": "1000000.01", "budget.cout_total_eur": "2000000.00"}) == [
        "MONTANT_PLAFOND"
    ]
    assert "MONTANT_PLAFOND" in submission_codes(**{"budget.cout_total_eur": "10000000.01"})
    assert RULES.plafond_demande_cents == 100_000_000 and RULES.plafond_enveloppe_cents == 10_000_000_000


@pytest.mark.parametrize("amount", ["1e18", "1000000000000", "NaN", "Infinity", "-Infinity", 1.005])
def test_amounts_no_arithmetic_can_hold_are_refused_when_parsed(amount):
    with pytest.raises(RuleViolation) as exc:
        parse_request_file(json.dumps(valid_request(**{"budget.montant_demande_eur": amount})))
    assert exc.value.codes == ["CHAMP_INVALIDE"]


def test_a_project_runs_within_its_campaign():
    assert submission_codes(**{"projet.date_fin": "9999-12-31"}) == ["PERIODE_HORS_CAMPAGNE"]
    assert submission_codes(**{"projet.date_debut": "1900-01-01"}) == ["PERIODE_HORS_CAMPAGNE"]


def test_a_registered_siret_filed_under_another_name_or_email_is_refused():
    f = parse_request_file(json.dumps(valid_request()))
    same = Porteur(name=f.porteur.nom.upper(), siret=f.porteur.siret, email=f.porteur.email.upper())
    other_name = Porteur(name="Autre association", siret=f.porteur.siret, email=f.porteur.email)
    other_email = Porteur(name=f.porteur.nom, siret=f.porteur.siret, email="autre@asso.example")
    assert check_submission(f, collectivite_found=True, registered_porteur=same, rules=RULES) == []
    for known in (other_name, other_email):
        found = check_submission(f, collectivite_found=True, registered_porteur=known, rules=RULES)
        assert [v.code for v in found] == ["PORTEUR_SIRET_DISCORDANT"] and known.email not in found[0].message


def test_the_same_request_is_recognised_whatever_its_case_accents_and_spacing():
    assert comparable("  Ateliers  Parents-Enfants : été ") == "ateliers parents enfants ete"
    assert duplicate_key(2021, 4, 7, "Ateliers parents-enfants") == duplicate_key(
        2021, 4, 7, "ATELIERS  Parents Enfants"
    )
    assert duplicate_key(2021, 4, 7, "Ateliers") != duplicate_key(2022, 4, 7, "Ateliers")
    assert duplicate_key(2021, 4, None, "Ateliers") != duplicate_key(2021, 4, 7, "Ateliers")


@pytest.mark.parametrize(
    "typed, euros",
    [
        ("9000000", "9000000"),
        ("9 000 000", "9000000"),
        ("1 234,50", "1234.50"),
        ("1234.5", "1234.5"),
        ("12\u202f000", "12000"),
    ],
)
def test_an_amount_is_read_as_people_type_it(typed, euros):
    assert str(parse_euros(typed)) == euros


@pytest.mark.parametrize("typed", ["abc", "1e30", "NaN", "Infinity", "1,234,5", "1.234", "12.345", "9" * 13, ""])
def test_an_amount_people_would_not_type_is_refused(typed):
    with pytest.raises(ValueError, match="montant illisible"):
        parse_euros(typed)


def test_the_prefet_validates_at_the_proposed_amount_or_less():
    assert check_prefet_amount(1_500_000, 1_600_000) == []
    assert [v.code for v in check_prefet_amount(1_600_001, 1_600_000)] == ["MONTANT_SUPERIEUR_A_LA_PROPOSITION"]
    assert [v.code for v in check_prefet_amount(1_000, None)] == ["MONTANT_NON_PROPOSE"]


def test_a_proposal_amount_no_arithmetic_can_hold_is_refused():
    with pytest.raises(RuleViolation) as exc:
        parse_proposal(
            json.dumps(
                {
                    "public": "bpi",
                    "financement": [{"annee": 2021, "socle_eur": "1e18"}],
                    "actions": [
                        {
                            "intitule": "Action",
                            "domaine": "logement",
                            "public": "bpi",
                            "action_p104": 15,
                            "montant_eur": "NaN",
                            "annee": 2021,
                        }
                    ],
                }
            )
        )
    assert set(exc.value.codes) == {"CHAMP_INVALIDE"} and len(exc.value.codes) == 2
