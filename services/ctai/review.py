"""The bilan the collectivité transmits before the instructeur concludes the yearly review.

The instructeur may type the bilan in the review's form; more often the collectivité sends it
(`territoires ctai bilan ID FILE.json`) and the form only asks for the decision: the transmitted
lines are kept on the year's review and used when the form leaves its bilan empty.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from models.actors import Collectivite
from models.ctai import Ctai, CtaiActionReview, CtaiReview, CtaiStatus, check_action_reviews
from models.errors import RuleViolation, Violation, raise_if_any
from models.french import pluriel
from models.money import euros_to_cents
from models.proposal import parse_review
from services.ctai.records import contract_records, review_of
from services.engine.audit import Actor, record_decision

ReviewLines = list[tuple[int, bool, int, int]]


def record_transmitted_review(session: Session, contract: Ctai, text: str) -> tuple[CtaiReview, int]:
    """Stores the transmitted bilan of the year under review (replacing an earlier one); returns
    the review and the number of actions."""
    if contract.status != CtaiStatus.YEARLY_REVIEW or contract.review_year is None:
        raise RuleViolation(
            [
                Violation(
                    "BILAN_NON_OUVERT",
                    "ctai",
                    f"le contrat {contract.reference} n'est pas en bilan "
                    "annuel : le bilan se transmet une fois le bilan de l'année ouvert",
                )
            ]
        )
    year = contract.review_year
    transmitted = parse_review(text)
    lines = [(b.action_id, b.realisee, b.public_atteint, euros_to_cents(b.consomme_eur)) for b in transmitted.actions]
    _, actions, _ = contract_records(session, contract)
    raise_if_any(check_action_reviews(lines, {a.id: a for a in actions}, year))
    review = review_of(session, contract.id, year) or CtaiReview(ctai_id=contract.id, year=year)
    session.add(review)
    session.flush()
    store_lines(session, review, lines)
    collectivite = session.get(Collectivite, contract.collectivite_id)
    record_decision(
        session,
        entity_type="ctai",
        entity_id=contract.id,
        step="bilan",
        from_status=contract.status,
        to_status=contract.status,
        actor=Actor(f"collectivité : {collectivite.name}"),
        decision="bilan_transmitted",
        comment=f"bilan {year} : {pluriel(len(lines), 'action')}",
        amount_cents=sum(cents for *_, cents in lines),
    )
    return review, len(lines)


def store_lines(session: Session, review: CtaiReview, lines: ReviewLines) -> None:
    session.execute(delete(CtaiActionReview).where(CtaiActionReview.review_id == review.id))
    session.add_all(
        [
            CtaiActionReview(
                review_id=review.id, action_id=a, carried_out=done, public_reached=reached, consumed_cents=cents
            )
            for a, done, reached, cents in lines
        ]
    )


def transmitted_lines(session: Session, ctai_id: int, year: int) -> ReviewLines:
    review = review_of(session, ctai_id, year)
    if review is None:
        return []
    rows = session.exec(
        select(CtaiActionReview).where(CtaiActionReview.review_id == review.id).order_by(CtaiActionReview.action_id)
    )
    return [(r.action_id, r.carried_out, r.public_reached, r.consumed_cents) for r in rows]
