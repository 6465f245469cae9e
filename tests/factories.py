"""Builders of valid domain objects; each test changes only what it is about."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from models.ctai import Action, CtaiFunding, Diagnostic, DiairReview
from models.money import euros_to_cents
from models.reference import Domain, P104Action, Public

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ptai-request.json"


def valid_request(**changes) -> dict:
    """The shipped example file, with dotted-path changes: ``{"budget.nature": "investissement"}``."""
    data = copy.deepcopy(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    for path, value in changes.items():
        target = data
        *parents, last = path.split(".")
        for p in parents:
            target = target[p]
        target[last] = value
    return data


def funding(year=2021, socle="150000", complementary="0") -> CtaiFunding:
    return CtaiFunding(
        ctai_id=1, year=year, socle_cents=euros_to_cents(socle), complementary_cents=euros_to_cents(complementary)
    )


def action(
    domain=Domain.LOGEMENT,
    public=Public.BPI,
    p104=P104Action.REFUGIES,
    amount="50000",
    year=2021,
    review=DiairReview.PENDING,
    title=None,
) -> Action:
    return Action(
        ctai_id=1,
        title=title or f"Action {domain}",
        domain=domain,
        public=public,
        p104_action=p104,
        amount_cents=euros_to_cents(amount),
        year=year,
        diair_review=review,
    )


def diagnostic(validated=True) -> Diagnostic:
    return Diagnostic(ctai_id=1, reference_year=2021, bpi_count=229, validated=validated)
