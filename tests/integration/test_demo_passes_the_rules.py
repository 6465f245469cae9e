"""The demo, how a newcomer meets the platform, holds only cases that pass every rule (both
databases): its contract passes the contract's rules and R13 is computed on it; its requests were
filed through the real submission, which refuses a request breaking a rule; its CTAIRs pass the
checks ``territoires ctai register-ctair`` runs."""

from sqlmodel import Session, select

from demo.data import seed_demo
from models.actors import Collectivite
from models.acts import FinancialReport
from models.ctai import (
    Action,
    Ctai,
    CtaiKind,
    check_action_porteurs,
    check_actions,
    check_ctair,
    check_funding,
    check_signatory,
)
from models.decision import Decision
from models.ptai import PtaiRequest
from models.reference import Public
from services.ctai.handlers import contract_checks
from services.ctai.proposal import ceilings
from services.ctai.records import contract_records, porteur_facts, rules_of
from services.db import unit_of_work

TOIT_DU_MONDE_ACTIONS = 7  # seed 004


def test_the_demo_contract_and_requests_pass_every_rule_and_carry_their_legal_acts(engine):
    with unit_of_work(engine) as s:
        created = seed_demo(s)
    assert created["ctai"] == 1 and created["ptai"] == 7 and created["ctair"] == 6
    with Session(engine) as s:
        contract = s.exec(select(Ctai).where(Ctai.kind == CtaiKind.CTAI)).one()
        assert contract_checks(s, contract) == []
        actions = list(s.exec(select(Action).where(Action.ctai_id == contract.id)))
        acts = {a.title: a.legal_act for a in actions}
        toit = [a.legal_act for a in actions if a.p104_action == 12]
        requests = list(s.exec(select(PtaiRequest)))
    assert toit == ["convention"] * TOIT_DU_MONDE_ACTIONS  # Toit du Monde, 50 000 € in all
    assert acts["Accès au logement en colocation"] == "convention"  # Coallia, 40 000 €
    assert acts["Poste de coordonnateur du contrat territorial"] == "arrete"  # the city itself, 15 000 €
    assert {r.legal_act for r in requests if r.requested_cents > 2_300_000} == {"convention"}
    assert {r.legal_act for r in requests if r.requested_cents <= 2_300_000} == {"arrete"}


def test_the_demo_ctairs_pass_the_checks_of_their_registration_and_carry_their_legal_acts(engine):
    """R1, R2 and R17 (refugees only, P104 action 15), R4 (each year's socle within its bounds, the
    actions within it), R15, R16, the ceilings; R5 is not asked of a CTAIR (its widening adds it)."""
    with unit_of_work(engine) as s:
        seed_demo(s)
    with Session(engine) as s:
        ctairs = list(s.exec(select(Ctai).where(Ctai.kind == CtaiKind.CTAIR)))
        assert len(ctairs) == 6
        for ctair in ctairs:
            funding, actions, diagnostic = contract_records(s, ctair)
            collectivite = s.get(Collectivite, ctair.collectivite_id)
            found = (
                check_signatory(collectivite.type, rules_of(ctair.first_year))
                + check_ctair(
                    signature_date=ctair.prefet_signed_on,
                    scope=Public(ctair.public_scope),
                    funding=funding,
                    actions=actions,
                    first_year=ctair.first_year,
                    last_year=ctair.last_year,
                    already_active=None,
                )
                + check_funding(funding, Public.BPI, rules_of)
                + [v for v in check_actions(actions, Public.BPI, funding, rules_of) if not v.code.startswith("R5_")]
                + check_action_porteurs(actions, porteur_facts(s, actions))
                + ceilings(funding, actions)
            )
            assert found == [], (ctair.reference, found)
            assert diagnostic is not None and diagnostic.validated  # R6, for the CTAI that widens it
            assert all(a.legal_act in {"arrete", "convention"} for a in actions)  # R13 computed


def test_seeding_the_demo_twice_adds_nothing(engine):
    with unit_of_work(engine) as s:
        seed_demo(s)
    with unit_of_work(engine) as s:
        again = seed_demo(s)
    assert set(again.values()) == {0}


def test_the_demo_acts_are_signed_sealed_and_their_open_data_export_validates_against_scdl_2_1_1(engine):
    from services.finance.exports import scdl_acts
    from services.finance.scdl import scdl_csv
    from tests.scdl_validation import validate_scdl

    with unit_of_work(engine) as s:
        seed_demo(s)
    with Session(engine) as s:
        acts = scdl_acts(s, 2021)
        reports = s.exec(select(FinancialReport)).all()
        sealed = s.exec(
            select(Decision).where(Decision.entity_type == "acte", Decision.decision == "document_sealed")
        ).all()
    text = scdl_csv(acts)
    assert validate_scdl(text) == []
    lines = text.splitlines()
    assert len(lines) == 1 + 8  # six associations, Toit du Monde and the city, one act each
    assert sum(a.montant_cents for a in acts) == 20_000_000  # Poitiers 2021: 200 000 € (seed 004)
    assert all(",2021-10-21," in line for line in lines[1:])  # signed on the contract's day
    assert len(sealed) == 8 and {r.status for r in reports} == {"compliant"} and len(reports) == 7
