"""The ministry's batch delegation as transactions, on both databases."""

import json
import threading
import uuid

import pytest
from sqlmodel import Session, func, select

from demo.data import fictitious_siren
from models.actors import AgentCreate, CollectiviteCreate, PorteurCreate
from models.decision import Decision
from models.delegation import BatchStatus, DelegationBatch, DelegationLine
from models.errors import RuleViolation
from models.outbox import OutboxMessage
from models.ptai import PtaiRequest, PtaiStatus
from notifications.render import render_parts
from services import registry
from services.db import unit_of_work
from services.engine import runs as steps
from services.engine import steps as step_engine
from services.finance import batches, delegation
from services.finance.envelope import set_envelope
from services.finance.workflow import BATCH
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
            registry.add_agent(
                s,
                AgentCreate(
                    email=f"prefet.{dep}@prefecture-{dep}.example",
                    name=f"Préfet {dep}",
                    role="prefet",
                    departement_code=dep,
                ),
            )
            siren = fictitious_siren(300 + n)
            registry.add_collectivite(
                s,
                CollectiviteCreate(
                    name=f"Ville {dep}", type="commune", siren=siren, departement_code=dep, email=f"ville@{dep}.example"
                ),
            )
            for k in range(2):
                data = valid_request(
                    **{
                        "demandeur.siren": siren,
                        "porteur": None,
                        "budget.montant_demande_eur": "10000.00",
                        "projet.intitule": f"Projet {dep}-{k}",
                    }
                )
                request = submit(s, json.dumps(data))
                request.status, request.proposed_cents = PtaiStatus.TRANSMITTED, 1_000_000
                s.add(request)
    return engine


def select_new(engine, year=2021) -> DelegationBatch:
    with unit_of_work(engine) as s:
        return batches.select_batch(s, year=year, flow_run_id=str(uuid.uuid4()))


def open_arbitrage(engine, batch: DelegationBatch) -> str:
    """Opens the batch's arbitrage step as its run does; returns the code mailed to the ministry."""
    run_id = batch.flow_run_id
    with unit_of_work(engine) as s:
        key = steps.trigger_key(s, "lot", batch.id, "arbitrage", run_id)
        steps.reserve(s, entity_type="lot", entity_id=batch.id, step="arbitrage", key=key, awaited_role="ministere")
    with unit_of_work(engine) as s:
        step_engine.open_step(
            s, BATCH, entity_id=batch.id, step="arbitrage", flow_run_id=run_id, trigger=key, link=None
        )
    return mailed_code(engine, MINISTERE)


def answer(engine, batch: DelegationBatch, code: str, decision: str, attempt: int = 1, **fields):
    with unit_of_work(engine) as s:
        return step_engine.decide(
            s,
            BATCH,
            entity_id=batch.id,
            step="arbitrage",
            flow_run_id=batch.flow_run_id,
            attempt=attempt,
            answer={"agent_email": MINISTERE, "approval_code": code, "decision": decision, **fields},
            link=None,
        )


def decide(engine, batch: DelegationBatch, decision: str, **fields):
    return answer(engine, batch, open_arbitrage(engine, batch), decision, **fields)


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
    assert {
        (line.departement_code, line.p104_action, line.ae_cents, line.cp_cents, line.requests_count) for line in lines
    } == {(dep, 12, 2_000_000, 2_000_000, 2) for dep in DEPS}
    # The préfectures are told; the applicants are not, by the ministry: their letter comes with their act.
    assert dict(emails)["credits_delegated_prefecture"] == 3 and "credits_delegated_porteur" not in dict(emails)


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


def request_ids(engine) -> list[int]:
    with Session(engine) as s:
        return list(s.exec(select(PtaiRequest.id).order_by(PtaiRequest.id)))


def trail_of(engine, request_id: int) -> list[tuple[str, str, int | None]]:
    with Session(engine) as s:
        return [
            (d.decision, d.actor_label, d.amount_cents)
            for d in s.exec(
                select(Decision)
                .where(Decision.entity_type == "ptai", Decision.entity_id == request_id)
                .order_by(Decision.id)
            )
        ]


def test_the_ministry_reduces_one_request_postpones_one_and_refuses_one_then_delegates_the_rest(transmitted):
    engine = transmitted
    reduced_id, postponed_id, refused_id = request_ids(engine)[:3]
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 900_000_000, MINISTERE)
        porteur = registry.add_porteur(
            s,
            PorteurCreate(
                name="Association Ufolep", siret=valid_request()["porteur"]["siret"], email="asso@ufolep.example"
            ),
        )
        s.get(PtaiRequest, refused_id).porteur_id = porteur.id
    batch = select_new(engine)
    out = decide(
        engine,
        batch,
        "approve",
        reductions=[{"request_id": reduced_id, "amount_eur": 6000, "reason": "Dépenses de personnel surévaluées"}],
        postponed_request_ids=[postponed_id],
        postpone_reason="Budget à confirmer",
        refused_request_ids=[refused_id],
        refusal_reason="Le projet relève du droit commun",
    )
    assert out.accepted, out.violations
    with Session(engine) as s:
        approved = s.get(DelegationBatch, batch.id)
        assert (approved.status, approved.requests_count, approved.total_cents) == (BatchStatus.APPROVED, 4, 3_600_000)
        refused, postponed = s.get(PtaiRequest, refused_id), s.get(PtaiRequest, postponed_id)
        assert refused.status == PtaiStatus.REJECTED and postponed.status == PtaiStatus.TRANSMITTED
        assert postponed.postponements == 1 and postponed.batch_id is None
        letters = s.exec(select(OutboxMessage).where(OutboxMessage.event == "request_refused_ministry")).all()
    assert sorted(m.recipient for m in letters) == sorted([f"ville@{DEPS[1]}.example", "asso@ufolep.example"])
    _, text, _ = render_parts(letters[0].event, letters[0].context)
    assert "Le projet relève du droit commun" in text and "deux mois" in text and "tribunal administratif" in text
    with Session(engine) as s:
        told = {
            (m.context["reference"], m.context["decision"], m.context["commentaire"], m.context["montant_cents"])
            for m in s.exec(
                select(OutboxMessage).where(
                    OutboxMessage.event == "step_decided", OutboxMessage.recipient == f"ville@{DEPS[0]}.example"
                )
            )
        }
        refs = {r.id: r.reference for r in s.exec(select(PtaiRequest))}
    assert told == {
        (refs[reduced_id], "montant réduit par le ministère", "Dépenses de personnel surévaluées", 600_000),
        (refs[postponed_id], "reportée au lot suivant", "Budget à confirmer", None),
    }
    assert trail_of(engine, reduced_id)[-1] == ("reduced", MINISTERE, 600_000)
    assert trail_of(engine, postponed_id)[-1][:2] == ("postponed", MINISTERE)
    assert trail_of(engine, refused_id)[-1][:2] == ("refused", MINISTERE)

    delegation.delegate(batch.id, engine=engine)
    with Session(engine) as s:
        reduced = s.get(PtaiRequest, reduced_id)
        assert (reduced.status, reduced.granted_cents) == (PtaiStatus.DELEGATED, 600_000)
        assert s.exec(select(func.sum(DelegationLine.ae_cents))).one() == 3_600_000
    assert statuses(engine) == {PtaiStatus.DELEGATED: 4, PtaiStatus.TRANSMITTED: 1, PtaiStatus.REJECTED: 1}


def test_a_postponed_request_lands_in_the_next_batch_and_cannot_be_postponed_a_second_time(transmitted):
    engine = transmitted
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 900_000_000, MINISTERE)
    first = select_new(engine)
    postponed = request_ids(engine)[0]
    assert decide(
        engine, first, "approve", postponed_request_ids=[postponed], postpone_reason="Pièces budgétaires à vérifier"
    ).accepted
    with Session(engine) as s:
        reason = s.exec(
            select(Decision.comment).where(Decision.entity_id == postponed, Decision.decision == "postponed")
        ).one()
    assert "Pièces budgétaires" in reason
    second = select_new(engine)
    assert second.requests_count == 1
    code = open_arbitrage(engine, second)
    out = answer(
        engine, second, code, "approve", postponed_request_ids=[postponed], postpone_reason="Toujours à vérifier"
    )
    assert not out.accepted and [v["code"] for v in out.violations] == ["DEMANDE_DEJA_REPORTEE"]
    with Session(engine) as s:
        assert (s.get(PtaiRequest, postponed).status, s.get(PtaiRequest, postponed).postponements) == (
            PtaiStatus.IN_BATCH,
            1,
        )
    out = answer(engine, second, mailed_code(engine, MINISTERE), "approve", attempt=2)  # retained this time
    assert out.accepted, out.violations


def test_a_reduction_not_below_the_amount_or_decisions_on_a_rejected_batch_are_refused_and_change_nothing(transmitted):
    engine = transmitted
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 900_000_000, MINISTERE)
    batch = select_new(engine)
    first = request_ids(engine)[0]
    code = open_arbitrage(engine, batch)
    out = answer(
        engine,
        batch,
        code,
        "approve",
        reductions=[{"request_id": first, "amount_eur": 10000, "reason": "Pas de réduction en fait"}],
    )
    assert not out.accepted and [v["code"] for v in out.violations] == ["REDUCTION_NON_INFERIEURE"]
    out = answer(
        engine,
        batch,
        mailed_code(engine, MINISTERE),
        "reject",
        attempt=2,
        refused_request_ids=[first],
        refusal_reason="Hors champ",
        comment="Lot incomplet",
    )
    assert not out.accepted and [v["code"] for v in out.violations] == ["DECISIONS_SANS_OBJET"]
    assert statuses(engine) == {PtaiStatus.IN_BATCH: 6}
    out = answer(engine, batch, mailed_code(engine, MINISTERE), "reject", attempt=3, comment="Lot incomplet")
    assert out.accepted and statuses(engine) == {PtaiStatus.TRANSMITTED: 6}


def more_transmitted(engine, count: int, dep: str = "86") -> None:
    """``count`` more validated requests of 10 000 € from the Ville of ``dep``, transmitted."""
    with unit_of_work(engine) as s:
        siren = fictitious_siren(300 + DEPS.index(dep))
        for k in range(count):
            data = valid_request(
                **{
                    "demandeur.siren": siren,
                    "porteur": None,
                    "budget.montant_demande_eur": "10000.00",
                    "projet.intitule": f"Projet supplémentaire {dep}-{k}",
                }
            )
            request = submit(s, json.dumps(data))
            request.status, request.proposed_cents = PtaiStatus.TRANSMITTED, 1_000_000
            s.add(request)


def test_an_approved_batch_not_yet_delegated_counts_against_the_envelope_of_the_next(transmitted):
    engine = transmitted
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 8_000_000, MINISTERE)
    first = select_new(engine)
    assert decide(engine, first, "approve").accepted  # 60 000 €, approved, not delegated yet
    more_transmitted(engine, 3)
    second = select_new(engine)
    out = decide(engine, second, "approve")
    assert not out.accepted and out.violations[0]["code"] == "ENVELOPPE_DEPASSEE"
    assert "dépasse de 10 000 €" in out.violations[0]["message"]
    with pytest.raises(RuleViolation) as exc:  # nor can the envelope drop below what approved batches commit
        with unit_of_work(engine) as s:
            set_envelope(s, 2021, 5_000_000, MINISTERE)
    assert exc.value.codes == ["ENVELOPPE_INFERIEURE_AU_DELEGUE"]
    delegation.delegate(first.id, engine=engine)  # now counted as delegated lines: still over
    out = answer(engine, second, mailed_code(engine, MINISTERE), "approve", attempt=2)
    assert not out.accepted and "dépasse de 10 000 €" in out.violations[0]["message"]
    out = answer(
        engine,
        second,
        mailed_code(engine, MINISTERE),
        "approve",
        attempt=3,
        reductions=[
            {"request_id": i, "amount_eur": 6000, "reason": "Enveloppe contrainte"} for i in request_ids(engine)[-3:-1]
        ],
    )
    assert not out.accepted  # 10 000 + 6 000 + 6 000 = 22 000 €, still 2 000 € over
    assert "dépasse de 2 000 €" in out.violations[0]["message"]
    out = answer(
        engine,
        second,
        mailed_code(engine, MINISTERE),
        "approve",
        attempt=4,
        postponed_request_ids=[request_ids(engine)[-1]],
        postpone_reason="Enveloppe épuisée",
    )
    assert out.accepted, out.violations


def test_two_batches_approved_at_the_same_time_cannot_overrun_the_envelope(transmitted):
    """Each fits alone (60 000 € and 30 000 € in 80 000 €), not both: one is refused with the amount over."""
    engine = transmitted
    with unit_of_work(engine) as s:
        set_envelope(s, 2021, 8_000_000, MINISTERE)
    first = select_new(engine)
    more_transmitted(engine, 3)
    second = select_new(engine)
    codes = {b.id: open_arbitrage(engine, b) for b in (first, second)}
    barrier, outcomes, errors = threading.Barrier(2), {}, []

    def approve(batch):
        try:
            barrier.wait(timeout=30)
            outcomes[batch.id] = answer(engine, batch, codes[batch.id], "approve")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(b,)) for b in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    accepted = [o for o in outcomes.values() if o.accepted]
    refused = [o for o in outcomes.values() if not o.accepted]
    assert len(accepted) == 1 and len(refused) == 1
    assert refused[0].violations[0]["code"] == "ENVELOPPE_DEPASSEE"
    assert "dépasse de 10 000 €" in refused[0].violations[0]["message"]
    with Session(engine) as s:
        approved = s.exec(select(DelegationBatch).where(DelegationBatch.status == BatchStatus.APPROVED)).all()
    assert len(approved) == 1 and approved[0].total_cents <= 8_000_000


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


def test_the_exports_give_one_line_per_departement_and_action_and_no_open_data_before_the_acts_are_signed(
    transmitted, app_env
):
    engine = transmitted
    assert run("envelope", "set", "--year", "2021", "--amount", "9 000 000", "--agent", MINISTERE).exit_code == 0
    batch = select_new(engine)
    decide(engine, batch, "approve")
    delegation.delegate(batch.id, engine=engine)
    csv_out = run("delegation", "export", str(batch.id), "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "lot;annee;departement;programme;action;ae_euros;cp_euros;nombre_demandes"
    assert sorted(csv_out[1:]) == sorted(f"{batch.reference};2021;{dep};104;12;20000.00;20000.00;2" for dep in DEPS)
    scdl = run("export", "scdl", "--year", "2021").stdout.splitlines()
    assert scdl[0].startswith("nomAttribuant,idAttribuant,dateConvention,referenceDecision,nomBeneficiaire")
    assert len(scdl) == 1  # one act per collectivité is drawn up, awaiting the préfet: nothing is published yet


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
    assert [(d.entity_id, d.amount_cents, d.actor_label) for d in trail] == [
        (2021, 900_000_000, MINISTERE),
        (2021, 1_100_000_000, MINISTERE),
    ]
    assert trail[0].comment == "première fixation" and "9\u202f000\u202f000" in trail[1].comment
