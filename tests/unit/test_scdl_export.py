"""The SCDL « subventions » 2.1.1 open-data file: formatted by services.finance.scdl, validated
offline with frictionless against the vendored schema and its custom checks."""

import ast
import csv
import dataclasses
import io
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import frictionless
import pytest

from services.finance.scdl import FIELDS, OBJET_MAX_LENGTH, SCHEMA_PATH, ScdlAct, scdl_csv, scdl_rows
from tests.scdl_validation import custom_checks, validate_scdl

PREFECTURE_86 = "19908600000015"  # fictitious, checksums valid (models.acts.prefecture_siret)
ASSOCIATION_SIRET = "38047555800058"  # the schema's own example
VILLE_SIRET = "21860194600013"


def _act(**changes) -> ScdlAct:
    base = ScdlAct(
        nom_attribuant="Préfecture de la Vienne",
        id_attribuant=PREFECTURE_86,
        date_convention=date(2021, 3, 15),
        reference_decision="AP-86-2021-0001",
        nom_beneficiaire="Association Accueil Poitou",
        id_beneficiaire=ASSOCIATION_SIRET,
        rna_beneficiaire=None,
        objet="Cours de français pour les réfugiés",
        montant_cents=5_000_000,
        versements=[date(2021, 4, 2)],
        periode_debut=date(2021, 1, 1),
        periode_fin=date(2021, 12, 31),
        dispositif="Territoires d'intégration — CTAI",
    )
    return dataclasses.replace(base, **changes)


def _acts() -> list[ScdlAct]:
    return [
        _act(),  # an association with its SIRET only
        _act(
            reference_decision="AP-86-2021-0002",
            nom_beneficiaire="Entraide Châtellerault",
            id_beneficiaire=None,
            rna_beneficiaire="W861000123",
        ),  # RNA only
        _act(
            reference_decision="CONV-86-2021-0003",
            nom_beneficiaire="Ville de Poitiers",
            id_beneficiaire=VILLE_SIRET,
            dispositif="Territoires d'intégration — PTAI",
            versements=[],
        ),  # a collectivité, no payment yet
        _act(reference_decision="AP-86-2021-0004", objet="Accompagnement vers l'emploi. " * 14),  # 420 characters
        _act(reference_decision="AP-86-2021-0005", objet='=HYPERLINK("http://x";"clic")'),
        _act(
            reference_decision="AP-86-2021-0006",
            versements=[date(2021, 9, 1), date(2021, 4, 2)],
            notification_ue=True,
            pourcentage=Decimal("0.45"),
            id_rae="12345",
        ),  # two payments
    ]


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_an_export_of_acts_validates_against_scdl_subventions_2_1_1():
    errors = validate_scdl(scdl_csv(_acts()))
    assert errors == [], "\n".join(errors)


def test_the_file_written_to_disk_validates_with_plain_frictionless(tmp_path):
    path = tmp_path / "subventions.csv"
    path.write_bytes(scdl_csv(_acts()).encode("utf-8"))
    # frictionless refuses an absolute data path as unsafe: the file is named under its folder
    resource = frictionless.Resource(
        path=path.name, basepath=str(tmp_path), schema=frictionless.Schema.from_descriptor(_schema())
    )
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_a_line_with_neither_siret_nor_rna_is_reported_invalid():
    errors = validate_scdl(scdl_csv([_act(), _act(id_beneficiaire=None, rna_beneficiaire=None)]))
    assert len(errors) == 1 and errors[0].startswith("one-of-required:") and "position 3" in errors[0], errors


def test_a_line_with_both_siret_and_rna_is_valid():
    assert validate_scdl(scdl_csv([_act(rna_beneficiaire="W861000123")])) == []


def test_a_siret_of_the_wrong_length_is_caught():
    beneficiary = validate_scdl(scdl_csv([_act(id_beneficiaire=ASSOCIATION_SIRET[:-1])]))
    attributor = validate_scdl(scdl_csv([_act(id_attribuant=PREFECTURE_86 + "0")]))
    assert [e.split(":")[0] for e in beneficiary] == ["french-siret-value"] and "idBeneficiaire" in beneficiary[0]
    assert "constraint-error" in {e.split(":")[0] for e in attributor}  # the pattern ^\d{14}$
    assert all("idAttribuant" in e for e in attributor)


def test_a_siret_whose_checksum_fails_is_caught():
    errors = validate_scdl(scdl_csv([_act(id_beneficiaire=ASSOCIATION_SIRET[:-1] + "9")]))
    assert [e.split(":")[0] for e in errors] == ["french-siret-value"]


def test_a_malformed_rna_or_an_unknown_nature_is_caught():
    bad_rna = validate_scdl(scdl_csv([_act(id_beneficiaire=None, rna_beneficiaire="W86100012")]))
    assert any("rnaBeneficiaire" in e for e in bad_rna)
    text = scdl_csv([_act()]).replace("aide en numéraire", "Aide en numéraire")
    assert any("nature" in e and "enum" in e for e in validate_scdl(text))


def test_a_semicolon_separated_file_is_rejected():
    assert validate_scdl(scdl_csv([_act()]).replace(",", ";")) != []


def test_dates_are_written_in_iso_format():
    row = scdl_rows([_act(date_convention=date(2021, 3, 5), versements=[date(2021, 4, 2)])])[0]
    assert row["dateConvention"] == "2021-03-05"
    assert row["datesPeriodeVersement"] == "2021-04-02"


def test_the_header_follows_the_schema_fields_in_order():
    schema_fields = [f["name"] for f in _schema()["fields"]]
    assert list(FIELDS) == schema_fields
    assert scdl_csv([]).splitlines() == [",".join(schema_fields)]
    assert list(scdl_rows([_act()])[0]) == schema_fields


def test_the_vendored_schema_is_version_2_1_1_with_known_custom_checks():
    schema = _schema()
    assert schema["version"] == "2.1.1"
    objet = next(f for f in schema["fields"] if f["name"] == "objet")
    assert objet["constraints"]["maxLength"] == OBJET_MAX_LENGTH
    assert {c.type for c in custom_checks(schema)} == {"french-siret-value", "one-of-required"}


def test_a_montant_of_50_000_euros_is_written_with_a_point_and_two_decimals():
    rows = scdl_rows([_act(montant_cents=5_000_000), _act(montant_cents=1_234_505)])
    assert [r["montant"] for r in rows] == ["50000.00", "12345.05"]
    assert ",50000.00," in scdl_csv([_act(montant_cents=5_000_000)])


def test_nature_notification_and_share_use_the_schema_values():
    plain, notified = scdl_rows([_act(), _act(notification_ue=True, pourcentage=Decimal("0.45"))])
    assert plain["nature"] == "aide en numéraire"
    assert (plain["notificationUE"], notified["notificationUE"]) == ("non", "oui")
    assert (plain["pourcentageSubvention"], notified["pourcentageSubvention"]) == ("1.00", "0.45")
    assert plain["idRAE"] == "" and notified["idRAE"] == ""
    assert scdl_rows([_act(id_rae="12345")])[0]["idRAE"] == "12345"


def test_payment_conditions_and_dates_follow_the_number_of_payments():
    none_yet, one, two = scdl_rows(
        [
            _act(versements=[]),
            _act(versements=[date(2021, 4, 2)]),
            _act(versements=[date(2021, 9, 1), date(2021, 4, 2)]),
        ]
    )
    assert (none_yet["conditionsVersement"], none_yet["datesPeriodeVersement"]) == ("unique", "2021-01-01/2021-12-31")
    assert (one["conditionsVersement"], one["datesPeriodeVersement"]) == ("unique", "2021-04-02")
    assert (two["conditionsVersement"], two["datesPeriodeVersement"]) == ("échelonné", "2021-04-02/2021-09-01")
    assert scdl_rows([_act(versements=[], conditions="échelonné")])[0]["conditionsVersement"] == "échelonné"


def test_a_long_objet_is_cut_under_256_characters_and_kept_on_one_line():
    long = scdl_rows([_act(objet="a" * 400)])[0]["objet"]
    assert len(long) == OBJET_MAX_LENGTH - 1 and long.endswith("…")
    exact = scdl_rows([_act(objet="b" * 255)])[0]["objet"]
    assert exact == "b" * 255
    assert scdl_rows([_act(objet="Cours\r\nde   français\n\tadultes ")])[0]["objet"] == "Cours de français adultes"
    text = scdl_csv([_act(objet="ligne 1\nligne 2")])
    assert len(text.splitlines()) == 2


def test_text_starting_like_a_formula_is_neutralised_but_numbers_and_dates_are_not():
    row = scdl_rows(
        [
            _act(
                objet="=1+1",
                nom_beneficiaire="@SUM(A1)",
                reference_decision="-2021-01",
                dispositif="+CTAI",
                id_rae="=1",
            )
        ]
    )[0]
    assert row["objet"] == "'=1+1" and row["nomBeneficiaire"] == "'@SUM(A1)"
    assert row["referenceDecision"] == "'-2021-01" and row["dispositifAide"] == "'+CTAI" and row["idRAE"] == "'=1"
    assert (row["montant"], row["dateConvention"], row["pourcentageSubvention"]) == ("50000.00", "2021-03-15", "1.00")
    long_formula = scdl_rows([_act(objet="=" + "x" * 400)])[0]["objet"]
    assert long_formula.startswith("'=") and len(long_formula) < OBJET_MAX_LENGTH


def test_the_file_reads_back_to_the_same_rows():
    text = scdl_csv(_acts())
    assert _rows(text) == scdl_rows(_acts())


def test_the_formatter_is_pure():
    path = Path(sys.modules[ScdlAct.__module__].__file__)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    allowed = set(sys.stdlib_module_names) | {"models", "services"}
    assert {m.split(".")[0] for m in imported} <= allowed
    assert {m for m in imported if m.startswith("services")} <= {"services.finance.cells"}


@pytest.mark.parametrize("module", ["services.finance.cells", "services.finance.scdl"])
def test_the_formatter_imports_neither_the_database_nor_prefect_nor_frictionless(module):
    import subprocess

    code = (
        f"import sys, {module}; print(sorted(m for m in ('sqlmodel', 'sqlalchemy', 'prefect', 'frictionless') if "
        "m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.strip()
    assert out == "[]"
