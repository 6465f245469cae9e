"""Payments of the legal acts: recorded when ordered (Chorus EJ, date), against the schedule of
the act in force, never beyond the grant. Recording the same order again changes nothing."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from sqlmodel import Session, func, select

from models.actors import Agent, Collectivite, Porteur, Role
from models.acts import (
    ActStatus,
    LegalAct,
    Payment,
    ReportStatus,
    act_policy,
    check_payment,
    instalment_amounts,
)
from models.errors import RuleViolation, Violation, raise_if_any
from models.money import cents_to_euros, euros_to_cents
from models.types import paris_today
from services.acts.records import ENTITY, family_paid_cents, load, report_of
from services.db import is_postgresql
from services.engine.audit import Actor, record_decision

RECORDERS = (Role.INSTRUCTEUR, Role.PREFET)  # the préfecture's services order the payments


def _recorder(session: Session, email: str, departement: str) -> Agent:
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower(), Agent.active.is_(True))).first()
    if agent is None or agent.role not in RECORDERS or agent.departement_code != departement:
        raise RuleViolation(
            [
                Violation(
                    "AGENT_NON_HABILITE",
                    "agent",
                    f"seul un agent instructeur ou le préfet du département {departement} enregistre "
                    "les paiements de ses actes",
                )
            ]
        )
    return agent


def record(
    session: Session,
    act_id: int,
    *,
    tranche: str,
    amount_eur: Decimal | str,
    ej_number: str,
    ordered_on: date,
    agent_email: str,
    today: date | None = None,
) -> tuple[Payment, bool]:
    """The payment ordered (new), or the same order recorded before (False)."""
    stmt = select(LegalAct).where(LegalAct.id == act_id)
    act = session.exec(stmt.with_for_update() if is_postgresql(session) else stmt).first() or load(session, act_id)
    agent = _recorder(session, agent_email, act.departement_code)
    cents = euros_to_cents(amount_eur)
    ej_number = (ej_number or "").strip()
    key = hashlib.sha256(f"{act.family_key}|{tranche}|{cents}|{ej_number}|{ordered_on}".encode()).hexdigest()
    same = session.exec(select(Payment).where(Payment.idempotency_key == key)).first()
    if same is not None:
        return same, False
    schedule = act_policy().schedule(act.kind)
    report = report_of(session, act.family_key)
    paid_in_tranche = session.exec(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.family_key == act.family_key, Payment.tranche == tranche
        )
    ).one()
    known_ej = (
        act.ej_number or session.exec(select(Payment.ej_number).where(Payment.family_key == act.family_key)).first()
    )
    violations = check_payment(
        act_status=act.status,
        tranche=tranche,
        schedule=schedule,
        amount_cents=cents,
        ej_number=ej_number,
        known_ej=known_ej,
        ordered_on=ordered_on,
        signed_on=act.signed_on,
        today=today or paris_today(),
        granted_cents=act.total_cents,
        paid_cents=family_paid_cents(session, act.family_key),
        paid_in_tranche_cents=paid_in_tranche,
        condition_met={
            "signature": act.status == ActStatus.SIGNED,
            # a collectivité accounts in the contract's yearly review, not by a compte rendu financier
            "compte_rendu_conforme": report is None
            and act.porteur_id is None
            or report is not None
            and report.status == ReportStatus.COMPLIANT,
        },
    )
    raise_if_any(violations)
    payment = Payment(
        act_id=act.id,
        family_key=act.family_key,
        tranche=tranche,
        amount_cents=cents,
        ej_number=ej_number,
        ordered_on=ordered_on,
        recorded_by_agent_id=agent.id,
        idempotency_key=key,
    )
    session.add(payment)
    act.ej_number = ej_number
    session.add(act)
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=act.id,
        step="paiement",
        from_status=act.status,
        to_status=act.status,
        actor=Actor(agent.email, agent.id),
        decision="payment_ordered",
        amount_cents=cents,
        comment=f"{tranche} — EJ {ej_number} — ordonné le {ordered_on:%d/%m/%Y}",
    )
    session.flush()
    return payment, True


def schedule_of(session: Session, act: LegalAct) -> list[dict]:
    """Each instalment of the act: its amount, its condition, what was paid on it."""
    amounts = instalment_amounts(act.total_cents, act_policy().schedule(act.kind))
    paid = dict(
        session.execute(
            select(Payment.tranche, func.sum(Payment.amount_cents))
            .where(Payment.family_key == act.family_key)
            .group_by(Payment.tranche)
        ).all()
    )
    return [
        {
            "tranche": i.tranche,
            "libelle": i.label,
            "part": str(i.share),
            "montant_cents": amounts[i.tranche],
            "condition": i.condition_label,
            "paye_cents": int(paid.get(i.tranche) or 0),
        }
        for i in act_policy().schedule(act.kind)
    ]


def listing(session: Session, *, departement: str | None = None, year: int | None = None) -> list[dict]:
    stmt = (
        select(Payment, LegalAct).join(LegalAct, LegalAct.id == Payment.act_id).order_by(Payment.ordered_on, Payment.id)
    )
    if departement:
        stmt = stmt.where(LegalAct.departement_code == departement)
    if year:
        stmt = stmt.where(LegalAct.year == year)
    rows = session.exec(stmt).all()
    porteurs = {
        p.id: p.name
        for p in session.exec(select(Porteur).where(Porteur.id.in_({a.porteur_id for _, a in rows} | {-1})))
    }
    collectivites = {
        c.id: c.name
        for c in session.exec(
            select(Collectivite).where(Collectivite.id.in_({a.collectivite_id for _, a in rows} | {-1}))
        )
    }
    return [
        {
            "id": p.id,
            "acte": a.reference,
            "departement": a.departement_code,
            "annee": a.year,
            "beneficiaire": porteurs.get(a.porteur_id) if a.porteur_id else collectivites.get(a.collectivite_id),
            "tranche": p.tranche,
            "montant_eur": str(cents_to_euros(p.amount_cents)),
            "ej": p.ej_number,
            "date": p.ordered_on.isoformat(),
            "subvention_eur": str(cents_to_euros(a.total_cents)),
        }
        for p, a in rows
    ]
