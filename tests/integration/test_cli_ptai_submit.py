"""``territoires ptai submit``: bad input exits 2 with the rule codes and stores nothing."""

import json

import pytest
from sqlmodel import Session, func, select

from demo.data import fictitious_siret
from models.actors import Porteur
from models.decision import Decision
from models.ptai import PtaiRequest
from services.db import get_engine
from tests.cli import run, run_json
from tests.factories import valid_request

CRF_MISSING = fictitious_siret(50)
BAD_KEY = CRF_MISSING[:-1] + str((int(CRF_MISSING[-1]) + 1) % 10)


@pytest.fixture
def registered(app_env):
    """The example's collectivité, and two porteurs flagged in the registry."""
    data = valid_request()
    assert run("seed", "reference").exit_code == 0
    assert (
        run(
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
        ).exit_code
        == 0
    )
    assert (
        run(
            "porteur",
            "add",
            "--name",
            "Association sans compte rendu",
            "--siret",
            CRF_MISSING,
            "--email",
            "a@crf.example",
            "--compte-rendu-manquant",
        ).exit_code
        == 0
    )
    return app_env


def _counts(url):
    with Session(get_engine(url)) as s:
        return (
            s.exec(select(func.count()).select_from(PtaiRequest)).one(),
            s.exec(select(func.count()).select_from(Decision)).one(),
            s.exec(select(func.count()).select_from(Porteur)).one(),
        )


def _submit(tmp_path, content: str):
    path = tmp_path / "demande.json"
    path.write_text(content, encoding="utf-8")
    return run_json("ptai", "submit", str(path))


BAD_REQUESTS = {
    "bpi_only_without_justification": (
        valid_request(**{"projet.public.categories": ["refugie"]}),
        "R3_JUSTIFICATION_BPI",
    ),
    "cultuelle_association": (valid_request(**{"porteur.cultuelle": True}), "R15_ASSOCIATION_CULTUELLE"),
    "invalid_siret": (valid_request(**{"porteur.siret": BAD_KEY}), "R15_SIRET_INVALIDE"),
    "investment": (valid_request(**{"budget.nature": "investissement"}), "R16_INVESTISSEMENT_EXCLU"),
    "negative_amount": (valid_request(**{"budget.montant_demande_eur": "-18000.00"}), "MONTANT_NEGATIF"),
    "missing_compte_rendu": (valid_request(**{"porteur.siret": CRF_MISSING}), "R14_COMPTE_RENDU_MANQUANT"),
    "unknown_collectivite": (valid_request(**{"demandeur.siren": "999000094"}), "COLLECTIVITE_INCONNUE"),
    "malformed_json": ('{"campagne": 2021, "demandeur": {', "JSON_INVALIDE"),
    "ptai_before_the_instrument": (
        valid_request(campagne=2020, **{"projet.date_debut": "2020-09-01", "projet.date_fin": "2021-08-31"}),
        "CAMPAGNE_PTAI_INEXISTANTE",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_exits_2_with_its_rule_code_and_stores_nothing(registered, tmp_path, case):
    content, expected = BAD_REQUESTS[case]
    before = _counts(registered)
    result, out = _submit(tmp_path, content if isinstance(content, str) else json.dumps(content))
    assert result.exit_code == 2
    assert out["ok"] is False
    assert expected in [e["code"] for e in out["erreurs"]]
    assert all(e["message"] for e in out["erreurs"])
    assert _counts(registered) == before


def test_the_french_error_output_names_the_rule_and_the_field(registered, tmp_path):
    path = tmp_path / "demande.json"
    path.write_text(json.dumps(valid_request(**{"budget.nature": "investissement"})), encoding="utf-8")
    result = run("ptai", "submit", str(path))
    assert result.exit_code == 2
    assert "[R16_INVESTISSEMENT_EXCLU] budget.nature : seules les subventions de fonctionnement" in result.stderr


def test_a_valid_request_is_stored_with_its_porteur_and_first_decision(registered, tmp_path):
    before = _counts(registered)
    result, out = _submit(tmp_path, json.dumps(valid_request()))
    assert result.exit_code == 0, result.output
    assert out["reference"].startswith("PTAI-76-2021-")
    assert _counts(registered) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert out["flow_run_id"] is None and "ptai reprendre" in out["avertissement"]  # no Prefect server here
    shown, view = run_json("ptai", "show", str(out["request_id"]))
    assert view["statut"] == "submitted" and view["montant_demande_cents"] == 1_800_000
    assert view["decisions"][0]["decision"] == "submitted"


def test_dry_run_validates_without_storing(registered, tmp_path):
    before = _counts(registered)
    path = tmp_path / "demande.json"
    path.write_text(json.dumps(valid_request()), encoding="utf-8")
    result, out = run_json("ptai", "submit", str(path), "--dry-run")
    assert result.exit_code == 0 and out["ok"] is True and out["request_id"] is None
    assert _counts(registered) == before


def test_complements_cannot_change_the_porteur_nor_the_campaign(registered, tmp_path):
    from datetime import date, timedelta

    from services.db import unit_of_work
    from services.ptai.steps import apply_decision

    result, out = _submit(tmp_path, json.dumps(valid_request()))
    assert result.exit_code == 0, result.output
    with unit_of_work(get_engine(registered)) as s:
        request = s.get(PtaiRequest, out["request_id"])
        apply_decision(request, "rework")
        request.rework_deadline = date.today() + timedelta(days=30)
        s.add(request)
    for changes in (
        {
            "porteur.siret": CRF_MISSING,
            "porteur.nom": "Association sans compte rendu",
            "porteur.email": "a@crf.example",
        },
        {"campagne": 2022, "projet.domaines": ["logement", "emploi"]},
    ):
        path = tmp_path / "complement.json"
        path.write_text(json.dumps(valid_request(**changes)), encoding="utf-8")
        before = _counts(registered)
        done = run("ptai", "complete", str(out["request_id"]), str(path), "--json")
        assert done.exit_code == 2 and "DEMANDE_NON_MODIFIABLE" in done.stdout
        assert _counts(registered) == before
