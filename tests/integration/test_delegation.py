"""The ministry's batch delegation as transactions, on both databases."""

import json
import threading
import uuid

import pytest
from sqlmodel import Session, func, select

from models.actors import AgentCreate, CollectiviteCreate
from models.decision import Decision
from models.errors import RuleViolation
from models.delegation import BatchStatus, DelegationBatch, DelegationLine
from models.outbox import OutboxMessage
from models.ptai import PtaiRequest, PtaiStatus
from services import registry
from services.engine import runs as steps
from services.engine import steps as step_engine
from services.finance import batches, delegation
from services.finance.envelope import set_envelope
from services.db import unit_of_work
from demo.data import fictitious_siren
from services.ptai.records import submit
from tests.cli import run
from tests.codes import mailed_code
from tests.factories import valid_request

MINISTERE = "ministere@interieur.example"
DEPS = ["86", "38", "67"]


@pytest.fixture
def transmitted(engine):
    """Two validated requests per département, 10 000 € each, transmitted to the ministry."""
    with unit_of_work(engine) as s:
        registry.seed_reference(s)
        registry.add_agent(s, AgentCreate(email=MINISTERE, name="DGEF", role="ministere"))
        for n, dep in enumerate(DEPS):
            registry.add_agent(s, AgentCreate(email=f"prefet.{dep}@prefecture-{dep}.example", name=f"Préfet {dep}",
                                              role="prefet", departement_code=dep))
            siren = fictitious_siren(300 + n)
            registry.add_collectivite(s, CollectiviteCreate(name=f"Ville {dep}", type="commune", siren=siren,
                                                            departement_code=dep, email=f"ville@{dep}.example"))
            for k in range(2):
                data = valid_request(**{"demandeur.siren": siren, "porteur": None,
                                        "budget.montant_demande_eur": "10000.00", "projet.intitule": f"Projet {dep}-{k}"})
                request = submit(s, json.dumps(data))
                request.status, request.proposed_cents = PtaiStatus.TRANSMITTED, 1_000_000
                s.add(request)
    return engine


def select_new(engine, year=2021) -> DelegationBatch:
    with unit_of_work(engine) as s:
        return batches.select_batch(s, year=year, flow_run_id=str(uuid.uuid4()))


def decide(engine, batch: DelegationBatch, decision: str, **fields):
    run_id = batch.flow_run_id
    with unit_of_work(engine) as s:
        key = steps.trigger_key(s, "lot", batch.id, "arbitrage", run_id)
        steps.reserve(s, entity_type="lot", entity_id=batch.id, step="arbitrage", key=key, awaited_role="ministere")
    with unit_of_work(engine) as s:
        step_engine.open_step(s, batches.BATCH, entity_id=batch.id, step="arbitrage", flow_run_id=run_id,
                              trigger=key, link=None)
    code = mailed_code(engine, MINISTERE)
    with unit_of_work(engine) as s:
        return step_engine.decide(s, batches.BATCH, entity_id=batch.id, step="arbitrage", flow_run_id=run_id, attempt=1,
                                  answer={"agent_email": MINISTERE, "approval_code": code, "decision": decision, **fields},
                                  link=None)


def approved_batch(engine) -> DelegationBatch:
    """A batch of every transmitted request, approved within a 9 M€ envelope."""
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 900_000_000, MINISTERE)
    batch = select_new(engine)
    assert decide(engine, batch, "approve").accepted
    return batch


def statuses(engine) -> dict:
    with Session(engine) as s:
        return dict(s.exec(select(PtaiRequest.status, func.count()).group_by(PtaiRequest.status)).all())


def delegated_rows(engine) -> list:
    with Session(engine) as s:
        return s.exec(select(Decision.entity_id).where(Decision.decision == "delegated")).all()


def test_an_approved_batch_delegates_each_request_once_with_lines_per_departement_and_action(transmitted):
    engine = transmitted
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 900_000_000, MINISTERE)
    batch = select_new(engine)
    assert (batch.requests_count, batch.total_cents) == (6, 6_000_000)
    assert decide(engine, batch, "approve").accepted
    report = delegation.delegate(batch.id, engine=engine)
    again = delegation.delegate(batch.id, engine=engine)
    assert report["delegues"] == sorted(DEPS) and report["echecs"] == {} and again["echecs"] == {}
    assert statuses(engine) == {PtaiStatus.DELEGATED: 6}
    assert sorted(delegated_rows(engine)) == sorted(set(delegated_rows(engine)))
    with Session(engine) as s:
        lines = s.exec(select(DelegationLine)).all()
        emails = s.exec(select(OutboxMessage.event, func.count()).group_by(OutboxMessage.event)).all()
        assert s.get(DelegationBatch, batch.id).status == BatchStatus.DELEGATED
    assert {(l.departement_code, l.p104_action, l.ae_cents, l.cp_cents, l.requests_count) for l in lines} == \
        {(dep, 12, 2_000_000, 2_000_000, 2) for dep in DEPS}
    assert dict(emails)["credits_delegated_prefecture"] == 3 and dict(emails)["credits_delegated_porteur"] == 6


def test_a_batch_over_the_envelope_is_refused_with_the_amount_it_is_over(transmitted):
    engine = transmitted
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 5_500_000, MINISTERE)
    batch = select_new(engine)
    out = decide(engine, batch, "approve")
    assert not out.accepted and out.violations[0]["code"] == "ENVELOPPE_DEPASSEE"
    assert "dépasse de 5\u202f000\u00a0€" in out.violations[0]["message"]
    with Session(engine) as s:
        assert s.get(DelegationBatch, batch.id).status == BatchStatus.AWAITING
    assert statuses(engine) == {PtaiStatus.IN_BATCH: 6}


def test_an_excluded_request_goes_back_to_the_pool_and_lands_in_the_next_batch(transmitted):
    engine = transmitted
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 900_000_000, MINISTERE)
    first = select_new(engine)
    with Session(engine) as s:
        excluded = s.exec(select(PtaiRequest.id).order_by(PtaiRequest.id)).first()
    out = decide(engine, first, "exclude", excluded_request_ids=[excluded], comment="Pièces budgétaires à vérifier")
    assert out.accepted
    delegation.delegate(first.id, engine=engine)
    with Session(engine) as s:
        back = s.get(PtaiRequest, excluded)
        reason = s.exec(select(Decision.comment).where(Decision.entity_id == excluded, Decision.decision == "excluded")).one()
    assert back.status == PtaiStatus.TRANSMITTED and back.batch_id is None and "Pièces budgétaires" in reason
    second = select_new(engine)
    assert second.requests_count == 1
    with Session(engine) as s:
        assert s.get(PtaiRequest, excluded).batch_id == second.id


def test_a_failing_departement_is_reported_and_its_requests_stay_eligible(transmitted, monkeypatch):
    engine = transmitted
    batch = approved_batch(engine)
    real = delegation.delegate_departement

    def failing_in_isere(session, batch_id, dep, request_ids, on):
        if dep == "38":
            raise RuntimeError("panne simulée pour le département 38")
        return real(session, batch_id, dep, request_ids, on)

    monkeypatch.setattr(delegation, "delegate_departement", failing_in_isere)
    report = delegation.delegate(batch.id, engine=engine)
    assert report["delegues"] == ["67", "86"] and "38" in report["echecs"]
    assert statuses(engine) == {PtaiStatus.DELEGATED: 4, PtaiStatus.TRANSMITTED: 2}
    assert select_new(engine).requests_count == 2


def test_a_delegation_interrupted_midway_finishes_with_every_request_delegated_once(transmitted):
    engine = transmitted
    batch = approved_batch(engine)
    with unit_of_work(engine) as s:  # the run died after the first département's transaction
        ids = [i.request_id for i in batches.items(s, batch.id) if i.departement_code == "38"]
        delegation.delegate_departement(s, batch.id, "38", ids, date_today())
    with Session(engine) as s:
        assert delegation.unfinished_batches(s) == [batch.id]
    with Session(engine) as s:
        pending = delegation.unfinished_batches(s)
    for batch_id in pending:  # what the next run does first
        delegation.delegate(batch_id, engine=engine)
    rows = delegated_rows(engine)
    assert len(rows) == 6 and len(set(rows)) == 6
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(DelegationLine)).one() == 3


def test_two_batch_runs_at_the_same_time_put_each_request_in_exactly_one_batch(transmitted):
    engine = transmitted
    batches, errors = [], []

    def run_batch():
        try:
            batches.append(select_new(engine))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run_batch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(b.requests_count for b in batches) == 6
    with Session(engine) as s:
        batched = s.exec(select(Decision.entity_id).where(Decision.decision == "batched")).all()
    assert sorted(batched) == sorted(set(batched)) and len(batched) == 6


def test_the_exports_give_one_line_per_departement_and_action_and_scdl_rows(transmitted, app_env):
    engine = transmitted
    assert run("envelope", "set", "--year", "2021", "--amount", "9 000 000", "--agent", MINISTERE).exit_code == 0
    batch = select_new(engine)
    decide(engine, batch, "approve")
    delegation.delegate(batch.id, engine=engine)
    csv_out = run("delegation", "export", str(batch.id), "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "lot;annee;departement;programme;action;ae_euros;cp_euros;nombre_demandes"
    assert sorted(csv_out[1:]) == sorted(f"{batch.reference};2021;{dep};104;12;20000.00;20000.00;2" for dep in DEPS)
    scdl = run("export", "scdl", "--year", "2021").stdout.splitlines()
    assert scdl[0].startswith("nomAttribuant;idAttribuant;dateConvention;referenceDecision;nomBeneficiaire")
    assert len(scdl) == 7 and all(";10000.00;" in line for line in scdl[1:])


def date_today():
    from datetime import date
    return date.today()


def test_every_change_of_the_envelope_is_recorded_in_the_audit_trail_and_never_below_what_is_delegated(transmitted):
    engine = transmitted
    approved = approved_batch(engine)  # sets 9 M€, by the ministry
    delegation.delegate(approved.id, engine=engine)
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 1_100_000_000, MINISTERE)
    with pytest.raises(RuleViolation) as exc:
        with unit_of_work(engine) as s:
            set_envelope(s, 2021, 5_000_000, MINISTERE)  # 60 000 € are delegated already
    assert exc.value.codes == ["ENVELOPPE_INFERIEURE_AU_DELEGUE"]
    with Session(engine) as s:
        trail = s.exec(select(Decision).where(Decision.entity_type == "enveloppe").order_by(Decision.id)).all()
    assert [(d.entity_id, d.amount_cents, d.actor_label) for d in trail] == [(2021, 900_000_000, MINISTERE),
                                                                              (2021, 1_100_000_000, MINISTERE)]
    assert trail[0].comment == "première fixation" and "9\u202f000\u202f000" in trail[1].comment
