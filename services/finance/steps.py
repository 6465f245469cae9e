"""The one step of a ministry batch (« lot »), declared once: the arbitrage, inside the monthly
delegation flow. The state machine, the form's choices and the texts derive from it."""

from __future__ import annotations

from models.actors import Role
from models.delegation import ArbitrageDecision, BatchEvent, BatchStatus
from models.state_machine import Transition
from services.engine.kind import Decision, Step, build_machine
from services.finance import batches, forms

CASE = batches.ENTITY  # "lot"
B = BatchStatus

ARBITRAGE = Step(
    case=CASE,
    name="arbitrage",
    status=B.AWAITING,
    label="arbitrage du lot par le ministère",
    role=Role.MINISTERE,
    form=forms.ArbitrageForm,
    handler=batches.arbitrage,
    has_flow=False,  # the monthly ``delegation-credits`` flow carries it
    decisions=(
        # Approved as a whole once the ministry has decided on each request it lists (reduce,
        # postpone, refuse; the others retained), within the envelope.
        Decision(
            ArbitrageDecision.APPROVE,
            wording="approuver le lot",
            label="lot approuvé",
            target=B.APPROVED,
            guarded=True,
            leads_to="le lot est approuvé en entier et délégué, selon vos décisions sur les demandes que vous "
            "listez ci-dessous ; toutes les autres demandes sont retenues à leur montant",
        ),
        Decision(
            ArbitrageDecision.REJECT,
            wording="rejeter le lot",
            label="lot rejeté",
            target=B.REJECTED,
            leads_to="toutes les demandes retournent au vivier (le lot suivant les reprend), avec le motif ; ne "
            "listez aucune demande",
        ),
    ),
)

STEPS = (ARBITRAGE,)
STEPS_BY_NAME = {step.name: step for step in STEPS}

BATCH_MACHINE = build_machine(
    CASE,
    "lot",
    STEPS,
    [
        Transition("selection", B.AWAITING, BatchEvent.EMPTY, B.EMPTY, None, "aucune demande à déléguer"),
        Transition(
            "delegation",
            B.APPROVED,
            BatchEvent.DELEGATED,
            B.DELEGATED,
            None,
            "crédits délégués dans chaque département",
        ),
    ],
)
