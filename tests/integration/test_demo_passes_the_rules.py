"""The demo, how a newcomer meets the platform, holds only cases that pass every rule (both
databases): its contract passes the contract's rules and R13 is computed on it; its requests were
filed through the real submission, which refuses a request breaking a rule."""

from sqlmodel import Session, select

from demo.data import seed_demo
from models.acts import FinancialReport
from models.ctai import Action, Ctai
from models.decision import Decision
from models.ptai import PtaiRequest
from services.ctai.handlers import contract_checks
from services.db import unit_of_work


def test_the_demo_contract_and_requests_pass_every_rule_and_carry_their_legal_acts(engine):
    with unit_of_work(engine) as s:
        created = seed_demo(s)
    assert created["ctai"] == 1 and created["ptai"] == 7
    with Session(engine) as s:
        contract = s.exec(select(Ctai)).one()
        assert contract_checks(s, contract) == []
        acts = {a.title: a.legal_act for a in s.exec(select(Action).where(Action.ctai_id == contract.id))}
        requests = list(s.exec(select(PtaiRequest)))
    assert acts["Accueil et hébergement des primo-arrivants"] == "convention"  # Toit du Monde, 50 000 €
    assert acts["Accompagnement vers le logement des BPI"] == "convention"  # Coallia, 40 000 €
    assert acts["Coordination du contrat territorial"] == "arrete"  # the city itself, 15 000 €
    assert {r.legal_act for r in requests if r.requested_cents > 2_300_000} == {"convention"}
    assert {r.legal_act for r in requests if r.requested_cents <= 2_300_000} == {"arrete"}


def test_seeding_the_demo_twice_adds_nothing(engine):
    with unit_of_work(engine) as s:
        seed_demo(s)
    with unit_of_work(engine) as s:
        again = seed_demo(s)
    assert set(again.values()) == {0}


def test_the_demo_acts_are_signed_sealed_and_their_open_data_export_validates_against_scdl_2_1_1(engine):
    from services.finance.exports import scdl_acts
    from services.finance.scdl import scdl_csv
    from services.finance.scdl_validation import validate_scdl

    with unit_of_work(engine) as s:
        seed_demo(s)
    with Session(engine) as s:
        acts = scdl_acts(s, 2021)
        reports = s.exec(select(FinancialReport)).all()
        sealed = s.exec(select(Decision).where(Decision.entity_type == "acte", Decision.decision == "document_sealed")).all()
    text = scdl_csv(acts)
    assert validate_scdl(text) == []
    lines = text.splitlines()
    assert len(lines) == 1 + 8  # six associations, Toit du Monde and the city, one act each
    assert sum(a.montant_cents for a in acts) == 20_000_000  # Poitiers 2021: 200 000 € (seed 004)
    assert all(",2021-10-21," in line for line in lines[1:])  # signed on the contract's day
    assert len(sealed) == 8 and {r.status for r in reports} == {"compliant"} and len(reports) == 7
