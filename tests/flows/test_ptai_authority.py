"""PTAI authority on a real Prefect server: an unfavourable opinion that the préfet overrides,
then a ministry batch in which one request is reduced and another refused for good (its letter
emailed, the reduced amount delegated). Rules are covered by the unit and integration tests."""

import json

from sqlmodel import Session, select

from demo.data import fictitious_siren
from models.actors import AgentCreate
from models.decision import Decision
from models.delegation import DelegationBatch, DelegationLine
from models.french import typographie
from models.outbox import OutboxMessage, OutboxStatus
from models.ptai import PtaiRequest, PtaiStatus
from services import registry
from services.db import unit_of_work
from services.finance.envelope import set_envelope
from services.ptai.records import submit
from tests.factories import valid_request
from tests.flows.helpers import decide, finished, mails_to, wait_for_mail
from tests.flows.test_ptai_chain import _batch_of, cli
from tests.waiting import await_until
from tests.workflow import poitiers

I86, P86, MIN = "instructeur.86@prefecture-86.example", "prefet.86@prefecture-86.example", "ministere@interieur.example"
CITY, ASSO = "integration@chatellerault.example", "asso@chatellerault.example"


def _outbox_drained(platform) -> bool:
    """Nothing left to send: every email the flows queued has reached the sink (or failed for good)."""
    with Session(platform.engine) as s:
        return not s.exec(
            select(OutboxMessage.id).where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        ).first()


def request_file(**changes) -> dict:
    return valid_request(
        **{
            "demandeur.siren": fictitious_siren(6),
            "campagne": 2026,
            "projet.domaines": ["logement", "emploi"],
            "projet.date_debut": "2026-09-01",
            "projet.date_fin": "2027-08-31",
            **changes,
        }
    )


async def test_the_prefet_overrides_an_unfavourable_opinion_and_the_ministry_reduces_one_request_and_refuses_another(
    platform, tmp_path
):
    poitiers(platform.engine, "Ville de Châtellerault", "commune", 6, CITY)
    with unit_of_work(platform.engine) as s:
        if MIN not in {a.email for a in registry.list_agents(s)}:
            registry.add_agent(s, AgentCreate(email=MIN, name="DGEF", role="ministere"))
        set_envelope(s, 2026, 1_100_000_000, MIN)
        other = submit(
            s,
            json.dumps(
                request_file(**{"projet.intitule": "Ateliers numériques pour primo-arrivants", "porteur.email": ASSO})
            ),
        )
        other.status, other.proposed_cents = PtaiStatus.TRANSMITTED, 1_500_000  # validated earlier
        refused_id, refused_ref = other.id, other.reference
    path = tmp_path / "demande.json"
    path.write_text(json.dumps(request_file(porteur=None)), encoding="utf-8")
    submitted = await cli("ptai", "submit", str(path), "--json")
    rid, ref = submitted["request_id"], submitted["reference"]

    verdict = await decide(
        platform,
        "instruction",
        rid,
        ref,
        I86,
        "unfavourable",
        entity="ptai",
        comment="Le public visé relève du droit commun",
    )
    assert verdict.outcome == "accepted", verdict.violations
    # The préfet's form and email carry the opinion; overriding it needs an amount and the préfet's motifs.
    approval = (await wait_for_mail(platform, P86, ref, 1))[-1]
    assert (
        typographie("Avis de l'instruction : défavorable (motifs : Le public visé relève du droit commun)")
        in approval.text()
    )
    verdict = await decide(platform, "validation", rid, ref, P86, "validate", entity="ptai", amount_eur=12000)
    assert verdict.outcome == "refused" and verdict.violations[0]["code"] == "CHAMP_MANQUANT"
    verdict = await decide(
        platform,
        "validation",
        rid,
        ref,
        P86,
        "validate",
        entity="ptai",
        attempt=2,
        amount_eur=12000,
        comment="Seul projet de logement accompagné du territoire",
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, verdict.flow_run_id)

    started = await cli("delegation", "run", "--year", "2026")
    batch_id = await _batch_of(platform, rid)
    with Session(platform.engine) as s:
        batch_ref = s.get(DelegationBatch, batch_id).reference
    verdict = await decide(
        platform,
        "arbitrage",
        batch_id,
        batch_ref,
        MIN,
        "approve",
        entity="lot",
        reductions=[{"request_id": rid, "amount_eur": 10000, "reason": "Coûts de coordination réduits"}],
        refused_request_ids=[refused_id],
        refusal_reason="Action déjà financée par le droit commun",
    )
    assert verdict.outcome == "accepted", verdict.violations
    await finished(platform, started["flow_run_id"])

    with Session(platform.engine) as s:
        reduced, refused = s.get(PtaiRequest, rid), s.get(PtaiRequest, refused_id)
        lines = s.exec(select(DelegationLine).where(DelegationLine.batch_id == batch_id)).all()
        trail = s.exec(
            select(Decision.decision)
            .where(Decision.entity_type == "ptai", Decision.entity_id == rid)
            .order_by(Decision.id)
        ).all()
    assert (reduced.status, reduced.granted_cents) == (PtaiStatus.DELEGATED, 1_000_000)
    assert refused.status == PtaiStatus.REJECTED and refused.granted_cents is None
    assert [(line.ae_cents, line.requests_count) for line in lines] == [(1_000_000, 1)]
    assert [d for d in trail if d != "refus"] == [
        "submitted",
        "unfavourable",
        "validate",
        "batched",
        "reduced",
        "delegated",
    ]
    for address in (CITY, ASSO):
        letters = [
            m for m in await wait_for_mail(platform, address, refused_ref, 1) if "refusée par le ministère" in m.subject
        ]
        assert len(letters) == 1
        assert "Action déjà financée par le droit commun" in letters[0].text()
        assert "tribunal administratif" in letters[0].text() and "deux mois" in letters[0].text()
    await await_until(lambda: _outbox_drained(platform), 60, "the outbox still holds emails to send")
    # The ministry does not write to applicants at delegation (their letter comes with the act).
    assert [m for m in mails_to(platform, CITY, ref) if "Crédits délégués" in m.subject] == []
