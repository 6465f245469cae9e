"""Every step of a PTAI request, declared once: local instruction (the instructeur's opinion, or
complements asked of the applicant), then the préfet's validation, whatever the opinion. The state
machine, the forms' choices, the texts and the flows derive from these declarations; the moves
no agent's step decides (the applicant's complements, the daily run, the ministry's batches) are
the machine's other transitions."""

from __future__ import annotations

from models.actors import Role
from models.ptai import InstructionDecision, PtaiEvent, PtaiStatus, ValidationDecision
from models.state_machine import Transition
from services.engine.kind import Decision, Step, build_machine
from services.ptai import forms, handlers

CASE = "ptai"
S = PtaiStatus

INSTRUCTION = Step(
    case=CASE,
    name="instruction",
    status=S.SUBMITTED,
    label="instruction locale",
    role=Role.INSTRUCTEUR,
    form=forms.InstructionForm,
    handler=handlers.instruction,
    expectation_again="Vos compléments ont bien été reçus : l'instruction de votre demande reprend. Aucune action "
    "n'est attendue de votre part.",
    decisions=(
        Decision(
            InstructionDecision.FAVOURABLE,
            wording="avis favorable",
            label="avis favorable",
            target=S.PREFET_VALIDATION,
            needs=("amount_eur",),
            leads_to="avis favorable, avec le montant proposé (au plus le montant demandé) : le préfet décide ensuite",
        ),
        Decision(
            InstructionDecision.UNFAVOURABLE,
            wording="avis défavorable",
            label="avis défavorable",
            target=S.PREFET_VALIDATION,
            needs=("comment",),
            leads_to="avis défavorable, motifs obligatoires (champ « Commentaire ou motif ») : le préfet décide "
            "ensuite, il peut rejeter la demande ou la valider malgré l'avis",
        ),
        Decision(
            InstructionDecision.REWORK,
            wording="demander des compléments",
            label="complément demandé",
            target=S.AWAITING_APPLICANT,
            needs=("comment", "rework_deadline"),
            sends_back=True,
            asks="Adresser à la préfecture les compléments demandés avant la date limite, en rappelant la référence "
            "du dossier.",
            leads_to="compléments demandés au demandeur (commentaire et date limite obligatoires) ; l'instruction "
            "reprend à leur réception",
        ),
    ),
)

VALIDATION = Step(
    case=CASE,
    name="validation",
    status=S.PREFET_VALIDATION,
    label="validation par le préfet",
    role=Role.PREFET,
    form=forms.ValidationForm,
    handler=handlers.validation,
    four_eyes=True,  # never the instructing agent
    decisions=(
        Decision(
            ValidationDecision.VALIDATE,
            wording="valider et transmettre",
            label="validée et transmise au ministère",
            target=S.TRANSMITTED,
            # What it leads to depends on the opinion: ``services.ptai.texts.validation_leads_to``.
        ),
        Decision(
            ValidationDecision.REJECT,
            wording="rejeter la demande",
            label="rejetée par le préfet",
            target=S.REJECTED,
            needs=("comment",),
            unfavourable=True,
            leads_to="la demande est rejetée ; motifs obligatoires, transmis au demandeur",
        ),
    ),
)

STEPS = (INSTRUCTION, VALIDATION)
STEPS_BY_NAME = {step.name: step for step in STEPS}

# The steps no agent's form decides, as a request's history names them.
OTHER_STEP_LABELS = {
    "depot": "dépôt",
    "complement": "compléments du demandeur",
    "delegation": "délégation des crédits par le ministère",
}

M = Role.MINISTERE
PTAI_MACHINE = build_machine(
    CASE,
    "PTAI",
    STEPS,
    [
        Transition("complement", S.AWAITING_APPLICANT, PtaiEvent.COMPLETED, S.SUBMITTED, None, "complément reçu"),
        Transition("complement", S.AWAITING_APPLICANT, PtaiEvent.DEADLINE_PASSED, S.CLOSED, None, "classée sans suite"),
        Transition("delegation", S.TRANSMITTED, PtaiEvent.BATCHED, S.IN_BATCH, None, "inscrite dans un lot"),
        # The ministry's decisions on each request of a batch it approves (the others are retained).
        Transition("delegation", S.IN_BATCH, PtaiEvent.REDUCED, S.IN_BATCH, M, "montant réduit par le ministère"),
        Transition("delegation", S.IN_BATCH, PtaiEvent.POSTPONED, S.TRANSMITTED, M, "reportée au lot suivant"),
        Transition("delegation", S.IN_BATCH, PtaiEvent.REFUSED, S.REJECTED, M, "refusée par le ministère"),
        Transition("delegation", S.IN_BATCH, PtaiEvent.DELEGATED, S.DELEGATED, M, "crédits délégués"),
        Transition("delegation", S.IN_BATCH, PtaiEvent.BATCH_REJECTED, S.TRANSMITTED, M, "lot rejeté"),
        Transition(
            "delegation",
            S.IN_BATCH,
            PtaiEvent.DELEGATION_FAILED,
            S.TRANSMITTED,
            None,
            "délégation en échec : remise au vivier",
        ),
    ],
)


def apply_decision(request, decision: str) -> Transition:
    """Moves the request along ``PTAI_MACHINE``: the only writer of its status."""
    return PTAI_MACHINE.apply(request, decision)
