"""The collectivité's side of the procedure outside the steps: the actions it reworks after the
Diair's review, and the registration of a CTAIR signed before the platform existed."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models.actors import Collectivite, Porteur
from models.ctai import (
    Action,
    Ctai,
    CtaiEvent,
    CtaiFunding,
    CtaiKind,
    CtaiStatus,
    Diagnostic,
    DiairReview,
    check_action_porteurs,
    check_actions,
    check_ctair,
    check_funding,
    check_signatory,
    duration_years,
)
from models.errors import RuleViolation, Violation, raise_if_any
from models.money import euros_to_cents
from models.proposal import ActionLine, parse_ctair, parse_rework
from models.reference import Public
from models.types import paris_today
from services.ctai.handlers import contract_checks
from services.ctai.proposal import ceilings
from services.ctai.records import contract_records, porteur_facts, rules_of
from services.ctai.steps import REWORK_STEP, apply_decision
from services.ctai.workflow import CTAI, ENTITY
from services.engine.audit import Actor, AuditEvent, record_decision
from services.engine.money import amounts_changed


def _porteurs(session: Session, lines: list[ActionLine]) -> dict[str, Porteur]:
    sirets = {a.porteur_siret for a in lines if a.porteur_siret}
    found = {p.siret: p for p in session.exec(select(Porteur).where(Porteur.siret.in_(sirets)))} if sirets else {}
    raise_if_any(
        [
            Violation(
                "PORTEUR_INCONNU",
                f"actions[{i}].porteur_siret",
                f"aucun porteur enregistré avec le SIRET {a.porteur_siret} (territoires porteur add)",
            )
            for i, a in enumerate(lines)
            if a.porteur_siret and a.porteur_siret not in found
        ]
    )
    return found


def rework(session: Session, ctai_id: int, text: str) -> tuple[Ctai, int]:
    """The actions the Diair flagged, changed by the collectivité (only those), checked with the
    whole contract; DIAIR_REWORK → DIAIR_REVIEW, the reworked actions to be reviewed again.
    Returns the contract and the recorded decision's id (the next run's cause)."""
    parsed = parse_rework(text)
    ctai = CTAI.lock(session, ctai_id)
    if ctai.status != CtaiStatus.DIAIR_REWORK:
        raise RuleViolation(
            [
                Violation(
                    "CONTRAT_PAS_EN_REPRISE",
                    "ctai",
                    f"le contrat {ctai.reference} n'attend pas d'actions retravaillées (statut : {ctai.status})",
                )
            ]
        )
    _, actions, _ = contract_records(session, ctai)
    by_id = {a.id: a for a in actions}
    problems, seen = [], set()
    for i, line in enumerate(parsed.actions):
        a = by_id.get(line.id)
        if a is None or a.diair_review != DiairReview.REWORK:
            flagged = sorted(x.id for x in actions if x.diair_review == DiairReview.REWORK)
            problems.append(
                Violation(
                    "ACTION_NON_SIGNALEE",
                    f"actions[{i}].id",
                    f"l'action n° {line.id} n'est pas "
                    f"signalée à retravailler par la Diair : seules les actions n° "
                    f"{', '.join(map(str, flagged))} peuvent changer",
                )
            )
        elif line.id in seen:
            problems.append(
                Violation("ACTION_EN_DOUBLE", f"actions[{i}].id", f"l'action n° {line.id} figure deux fois")
            )
        seen.add(line.id)
    raise_if_any(problems)
    porteurs = _porteurs(session, parsed.actions)
    for line in parsed.actions:
        a = by_id[line.id]
        a.title, a.domain, a.public, a.p104_action = line.intitule, line.domaine, line.public, line.action_p104
        a.porteur_id = porteurs[line.porteur_siret].id if line.porteur_siret else None
        a.amount_cents, a.year, a.nature = euros_to_cents(line.montant_eur), line.annee, line.nature
        a.diair_review = DiairReview.PENDING
        session.add(a)
    session.flush()
    funding, actions, _ = contract_records(session, ctai)
    checks = contract_checks(session, ctai) + ceilings(funding, actions)
    before = ctai.status
    apply_decision(ctai, CtaiEvent.REWORKED, checks=checks)
    session.add(ctai)
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    recorded = record_decision(
        session,
        entity_type=ENTITY,
        entity_id=ctai.id,
        step=REWORK_STEP,
        from_status=before,
        to_status=ctai.status,
        actor=Actor(f"collectivité : {collectivite.name}"),
        decision=CtaiEvent.REWORKED,
        comment="actions retravaillées : n° " + ", ".join(str(line.id) for line in parsed.actions),
        amount_cents=sum(a.amount_cents for a in actions),
    )
    amounts_changed(session, ctai_ids=[ctai.id])
    return ctai, recorded.id


def register_ctair(session: Session, *, collectivite_id: int, signature_date: date, text: str) -> Ctai:
    """Records a CTAIR signed in 2019–2020 (refugees only), in force, so that it can be widened
    (``ctai start --from-ctair``)."""
    parsed = parse_ctair(text)
    collectivite = session.get(Collectivite, collectivite_id)
    if collectivite is None:
        raise RuleViolation(
            [Violation("COLLECTIVITE_INCONNUE", "collectivite", f"aucune collectivité n° {collectivite_id}")]
        )
    if signature_date > paris_today():
        raise RuleViolation([Violation("DATE_HORS_BORNES", "signature_date", "la date de signature est à venir")])
    first_year = signature_date.year
    rules = rules_of(first_year)
    last_year = first_year + duration_years(rules) - 1
    porteurs = _porteurs(session, parsed.actions)
    funding = [
        CtaiFunding(
            year=f.annee,
            socle_cents=euros_to_cents(f.socle_eur),
            complementary_cents=euros_to_cents(f.complementaire_eur),
        )
        for f in parsed.financement
    ]
    actions = [
        Action(
            title=a.intitule,
            domain=a.domaine,
            public=a.public,
            p104_action=a.action_p104,
            nature=a.nature,
            porteur_id=porteurs[a.porteur_siret].id if a.porteur_siret else None,
            amount_cents=euros_to_cents(a.montant_eur),
            year=a.annee,
            diair_review=DiairReview.COMPLIANT,
        )
        for a in parsed.actions
    ]
    active = session.exec(
        select(Ctai).where(
            Ctai.collectivite_id == collectivite_id, Ctai.kind == CtaiKind.CTAIR, Ctai.status == CtaiStatus.ACTIVE
        )
    ).first()
    found = check_signatory(collectivite.type, rules)
    found += check_ctair(
        signature_date=signature_date,
        scope=parsed.public,
        funding=funding,
        actions=actions,
        first_year=first_year,
        last_year=last_year,
        already_active=(active.reference or f"n° {active.id}") if active else None,
    )
    found += check_funding(funding, Public.BPI, rules_of)
    found += [
        v for v in check_actions(actions, Public.BPI, funding, rules_of) if not v.code.startswith("R5_")
    ]  # a CTAIR had no housing requirement: the widening adds it
    found += check_action_porteurs(actions, porteur_facts(session, actions)) + ceilings(funding, actions)
    raise_if_any(list(dict.fromkeys(found)))
    ctair = Ctai(
        collectivite_id=collectivite_id,
        kind=CtaiKind.CTAIR,
        status=CtaiStatus.ACTIVE,
        first_year=first_year,
        last_year=last_year,
        public_scope=Public.BPI,
        prefet_signed_on=signature_date,
    )
    session.add(ctair)
    session.flush()
    ctair.reference = f"CTAIR-{collectivite.departement_code}-{first_year}-{ctair.id:04d}"
    for row in [*funding, *actions]:
        row.ctai_id = ctair.id
    session.add_all(
        [
            *funding,
            *actions,
            Diagnostic(
                ctai_id=ctair.id,
                reference_year=parsed.diagnostic.annee,
                bpi_count=parsed.diagnostic.bpi,
                validated=True,
            ),
        ]
    )
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=ctair.id,
        step="creation",
        from_status=None,
        to_status=ctair.status,
        actor=Actor(f"reprise d'un CTAIR existant : {collectivite.name}"),
        decision=AuditEvent.REGISTERED,
        comment=f"CTAIR signé par le préfet le {signature_date:%d/%m/%Y}",
        amount_cents=sum(f.socle_cents + f.complementary_cents for f in funding),
    )
    amounts_changed(session, ctai_ids=[ctair.id])
    return ctair
