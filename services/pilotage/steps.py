"""The step of a comité de pilotage, declared once per organiser: its compte rendu, recorded by
the préfet for a local comité, by the Diair for a national one (the same decisions). The state
machine, the forms' choices and the texts derive from these declarations."""

from __future__ import annotations

from models.actors import Role
from models.pilotage import STEP_OF_LEVEL, ComiteDecision, ComiteLevel, ComiteStatus
from services.engine.kind import Decision, Step, build_machine
from services.pilotage import forms, handlers

CASE = "comite"
FLOW = "comite-pilotage"  # one flow per comité, whatever its level
S = ComiteStatus


def _decisions() -> tuple[Decision, ...]:
    return (
        Decision(
            ComiteDecision.RECORD,
            wording="enregistrer le compte rendu",
            label="compte rendu enregistré",
            target=S.HELD,
            needs=("held_on",),
        ),
        Decision(
            ComiteDecision.CANCEL,
            wording="annuler le comité",
            label="comité annulé",
            target=S.CANCELLED,
            needs=("comment",),
        ),
    )


COMPTE_RENDU = Step(
    case=CASE,
    name=STEP_OF_LEVEL[ComiteLevel.LOCAL],
    status=S.PLANNED_LOCAL,
    label="compte rendu du comité de pilotage local",
    role=Role.PREFET,
    form=forms.CompteRenduForm,
    handler=handlers.compte_rendu,
    flow=FLOW,
    decisions=_decisions(),
)

COMPTE_RENDU_NATIONAL = Step(
    case=CASE,
    name=STEP_OF_LEVEL[ComiteLevel.NATIONAL],
    status=S.PLANNED_NATIONAL,
    label="compte rendu du comité de pilotage national",
    role=Role.DIAIR,
    form=forms.CompteRenduNationalForm,
    handler=handlers.compte_rendu,
    flow=FLOW,
    decisions=_decisions(),
)

STEPS = (COMPTE_RENDU, COMPTE_RENDU_NATIONAL)
STEPS_BY_NAME = {step.name: step for step in STEPS}

# The steps no agent's form decides, as a comité's history names them.
OTHER_STEP_LABELS = {"creation": "planification"}

COMITE_MACHINE = build_machine(CASE, "comité de pilotage", STEPS)
