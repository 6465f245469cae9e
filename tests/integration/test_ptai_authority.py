"""The instructeur gives an opinion, the préfet decides: the PTAI steps as transactions, on both
databases (the flows run the same services; tests/flows/test_ptai_authority.py drives them
through Prefect)."""

import json
import uuid

import pytest
from sqlmodel import Session, select

from demo.data import fictitious_siren
from models.french import typographie
from models.outbox import OutboxMessage
from models.ptai import PtaiRequest, PtaiStatus
from notifications.render import render_parts
from services.db import unit_of_work
from services.engine import runs as steps
from services.engine import steps as step_engine
from services.ptai.records import submit
from services.ptai.workflow import PTAI
from tests.codes import mailed_code
from tests.factories import valid_request
from tests.workflow import poitiers

I86, P86 = "instructeur.86@prefecture-86.example", "prefet.86@prefecture-86.example"


class PtaiDriver:
    """Opens a PTAI step and answers its form as the flow does, with codes read from the outbox."""

    def __init__(self, engine, request_id: int):
        self.engine, self.request_id, self.run_id, self.attempt = engine, request_id, None, 0

    def open(self, step: str):
        self.run_id, self.attempt = str(uuid.uuid4()), 0
        with unit_of_work(self.engine) as s:
            key = steps.trigger_key(s, "ptai", self.request_id, step, self.run_id)
            steps.reserve(
                s,
                entity_type="ptai",
                entity_id=self.request_id,
                step=step,
                key=key,
                awaited_role=PTAI.awaited_role(step),
            )
        with unit_of_work(self.engine) as s:
            return step_engine.open_step(
                s,
                PTAI,
                entity_id=self.request_id,
                step=step,
                flow_run_id=self.run_id,
                trigger=key,
                link="http://ui/run",
            )

    def answer(self, step: str, email: str, decision: str, **fields):
        self.attempt += 1
        answer = {
            "agent_email": email,
            "approval_code": mailed_code(self.engine, email),
            "decision": decision,
            **fields,
        }
        with unit_of_work(self.engine) as s:
            return step_engine.decide(
                s,
                PTAI,
                entity_id=self.request_id,
                step=step,
                flow_run_id=self.run_id,
                attempt=self.attempt,
                answer=answer,
                link="http://ui/run",
            )


@pytest.fixture
def request_id(engine) -> int:
    poitiers(engine)
    data = valid_request(
        **{
            "demandeur.siren": fictitious_siren(1),
            "porteur": None,
            "budget.cout_total_eur": "40000.00",
            "budget.montant_demande_eur": "30000.00",
        }
    )
    with unit_of_work(engine) as s:
        return submit(s, json.dumps(data)).id


def request(engine, rid: int) -> PtaiRequest:
    with Session(engine) as s:
        return s.get(PtaiRequest, rid)


def codes_of(outcome) -> list[str]:
    return [v["code"] for v in outcome.violations]


def test_an_unfavourable_opinion_goes_to_the_prefet_who_validates_it_with_an_amount_and_his_reasons(engine, request_id):
    drive = PtaiDriver(engine, request_id)
    drive.open("instruction")
    assert codes_of(drive.answer("instruction", I86, "unfavourable")) == ["CHAMP_MANQUANT"]
    assert codes_of(drive.answer("instruction", I86, "unfavourable", comment="Public hors champ", amount_eur=1000)) == [
        "MONTANT_SANS_OBJET"
    ]
    out = drive.answer("instruction", I86, "unfavourable", comment="Le public visé relève du droit commun")
    assert out.accepted and out.next_step == "validation"
    found = request(engine, request_id)
    assert (found.status, found.opinion, found.opinion_reasons, found.proposed_cents) == (
        PtaiStatus.PREFET_VALIDATION,
        "unfavourable",
        "Le public visé relève du droit commun",
        None,
    )

    view = drive.open("validation")
    assert "défavorable" in view.description and "Le public visé relève du droit commun" in view.description
    with Session(engine) as s:
        mail = s.exec(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == P86, OutboxMessage.event == "approval_requested")
            .order_by(OutboxMessage.id.desc())
        ).first()
    _, text, _ = render_parts(mail.event, mail.context)
    assert typographie("Avis de l'instruction : défavorable (motifs : Le public visé relève du droit commun)") in text
    assert codes_of(drive.answer("validation", P86, "validate", comment="Projet utile")) == ["CHAMP_MANQUANT"]
    assert codes_of(drive.answer("validation", P86, "validate", amount_eur=12000)) == ["CHAMP_MANQUANT"]
    assert codes_of(drive.answer("validation", P86, "validate", amount_eur=30001, comment="Projet utile")) == [
        "MONTANT_SUPERIEUR_A_LA_DEMANDE"
    ]
    out = drive.answer("validation", P86, "validate", amount_eur=12000, comment="Seul projet de logement du territoire")
    assert out.accepted, out.violations
    found = request(engine, request_id)
    assert (found.status, found.proposed_cents, found.legal_act) == (PtaiStatus.TRANSMITTED, 1_200_000, "arrete")


def test_the_prefet_may_reject_after_an_unfavourable_opinion_and_r13_drops_the_rejected_amount(engine, request_id):
    data = valid_request(
        **{
            "demandeur.siren": fictitious_siren(1),
            "porteur": None,
            "projet.intitule": "Second projet",
            "budget.montant_demande_eur": "5000.00",
        }
    )
    with unit_of_work(engine) as s:
        second = submit(s, json.dumps(data)).id
    assert request(engine, second).legal_act == "convention"  # 30 000 + 5 000 € for the Ville that year
    drive = PtaiDriver(engine, request_id)
    drive.open("instruction")
    assert drive.answer("instruction", I86, "unfavourable", comment="Budget insincère").accepted
    drive.open("validation")
    assert codes_of(drive.answer("validation", P86, "reject")) == ["CHAMP_MANQUANT"]
    assert drive.answer("validation", P86, "reject", comment="Je suis l'avis de l'instruction").accepted
    assert request(engine, request_id).status == PtaiStatus.REJECTED
    assert request(engine, second).legal_act == "arrete"  # 5 000 € left


def test_after_a_favourable_opinion_the_prefet_validates_at_most_the_proposed_amount_and_r13_follows_it(
    engine, request_id
):
    assert request(engine, request_id).legal_act == "convention"  # 30 000 € requested
    drive = PtaiDriver(engine, request_id)
    drive.open("instruction")
    assert codes_of(drive.answer("instruction", I86, "favourable", amount_eur=30001)) == [
        "MONTANT_SUPERIEUR_A_LA_DEMANDE"
    ]
    assert drive.answer("instruction", I86, "favourable", amount_eur=25000, comment="Projet solide").accepted
    found = request(engine, request_id)
    assert (found.opinion, found.opinion_reasons, found.proposed_cents) == ("favourable", "Projet solide", 2_500_000)
    view = drive.open("validation")
    assert "favorable" in view.description and "25\u202f000\u00a0€" in view.description
    assert codes_of(drive.answer("validation", P86, "validate", amount_eur=25001)) == [
        "MONTANT_SUPERIEUR_A_LA_PROPOSITION"
    ]
    assert drive.answer("validation", P86, "validate", amount_eur=20000).accepted
    found = request(engine, request_id)
    assert (found.status, found.proposed_cents, found.legal_act) == (PtaiStatus.TRANSMITTED, 2_000_000, "arrete")
