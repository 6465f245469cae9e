"""The one approval step of a compte rendu financier (Cerfa n° 15059), declared once: the
instructeur's examination (R14 follows). The state machine, the form's choices and the texts
derive from it; the porteur's transmission is the machine's other transition."""

from __future__ import annotations

from models.actors import Role
from models.acts import ExamenDecision, ReportEvent, ReportStatus
from models.state_machine import Transition
from services.engine.kind import Decision, Step, build_machine
from services.financial_report import forms, handlers
from services.financial_report.records import ENTITY

CASE = ENTITY  # "crf"
C = ReportStatus

EXAMEN = Step(
    case=CASE,
    name="examen",
    status=C.RECEIVED,
    label="examen du compte rendu financier",
    role=Role.INSTRUCTEUR,
    form=forms.ExamenForm,
    handler=handlers.examen,
    expectation="Aucune démarche de votre part : la préfecture examine votre compte rendu financier.",
    decisions=(
        Decision(
            ExamenDecision.COMPLIANT,
            wording="compte rendu conforme",
            label="compte rendu conforme",
            target=C.COMPLIANT,
            leads_to="le compte rendu est conforme : la restriction R14 est levée et le solde peut être payé",
        ),
        Decision(
            ExamenDecision.REWORK,
            wording="compte rendu incomplet : demander des compléments",
            label="compte rendu incomplet",
            target=C.INCOMPLETE,
            needs=("comment", "complement_deadline"),
            sends_back=True,
            asks="Transmettre à la préfecture, avant la date limite indiquée, les éléments manquants du compte rendu "
            "financier (formulaire Cerfa n° 15059) : sans compte rendu conforme, aucune nouvelle demande de "
            "subvention ne peut être instruite.",
            leads_to="le compte rendu est incomplet : motif (ce qui manque) et date limite des compléments "
            "obligatoires ; il est renvoyé au porteur",
        ),
        Decision(
            ExamenDecision.NON_COMPLIANT,
            wording="compte rendu non conforme : demander un reversement",
            label="compte rendu non conforme",
            target=C.NON_COMPLIANT,
            needs=("comment", "repay_eur"),
            withdraws=True,  # an amount to repay
            unfavourable=True,
            leads_to="le compte rendu n'est pas conforme : motif et montant à reverser obligatoires ; le porteur "
            "reste sans nouvelle subvention (R14)",
        ),
    ),
)

STEPS = (EXAMEN,)
STEPS_BY_NAME = {step.name: step for step in STEPS}

# The steps no agent's form decides, as a compte rendu's history names them.
OTHER_STEP_LABELS = {"depot": "transmission du compte rendu financier"}

REPORT_MACHINE = build_machine(
    CASE,
    "compte rendu financier",
    STEPS,
    [
        Transition("depot", C.EXPECTED, ReportEvent.TRANSMITTED, C.RECEIVED, None, "compte rendu transmis"),
        Transition("depot", C.INCOMPLETE, ReportEvent.TRANSMITTED, C.RECEIVED, None, "compléments transmis"),
    ],
)
