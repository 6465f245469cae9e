"""The one approval step of a legal act, declared once: the préfet's signature (R13). The state
machine, the form's choices and the texts derive from it; the act's other moves (a draft
withdrawn, a signed version replaced) are the machine's other transitions."""

from __future__ import annotations

from models.actors import Role
from models.acts import ActEvent, ActSignatureDecision, ActStatus
from models.state_machine import Transition
from services.acts import forms, handlers
from services.acts.records import ENTITY
from services.engine.kind import Decision, Step, build_machine

CASE = ENTITY  # "acte"
A = ActStatus

SIGNATURE = Step(
    case=CASE,
    name="signature",
    status=A.AWAITING_SIGNATURE,
    label="signature de l'acte attributif",
    role=Role.PREFET,
    form=forms.SignatureActeForm,
    handler=handlers.signature,
    decisions=(
        Decision(
            ActSignatureDecision.SIGN,
            wording="signer l'acte",
            label="acte signé",
            target=A.SIGNED,
            needs=("signatory_name", "signatory_title", "signed_on"),
            leads_to="l'acte est signé : nom, qualité et date de signature obligatoires ; le PDF est alors établi à "
            "votre nom, scellé (empreinte SHA-256 dans la piste d'audit) et adressé au bénéficiaire et à la "
            "collectivité",
        ),
        Decision(
            ActSignatureDecision.REJECT,
            wording="refuser de signer l'acte",
            label="signature refusée",
            target=A.CANCELLED,
            needs=("comment",),
            withdraws=True,
            unfavourable=True,
            leads_to="l'acte n'est pas signé : motif obligatoire (champ « Commentaire ou motif »), transmis à "
            "l'instruction",
        ),
    ),
)

STEPS = (SIGNATURE,)
STEPS_BY_NAME = {step.name: step for step in STEPS}

# The steps no agent's form decides, as an act's history names them.
OTHER_STEP_LABELS = {
    "redaction": "rédaction de l'acte",
    "paiement": "paiement",
    "remplacement": "remplacement par une nouvelle version",
}

ACT_MACHINE = build_machine(
    CASE,
    "acte",
    STEPS,
    [
        Transition("redaction", A.AWAITING_SIGNATURE, ActEvent.WITHDRAWN, A.CANCELLED, None, "projet retiré"),
        Transition("remplacement", A.SIGNED, ActEvent.REPLACED, A.REPLACED, None, "remplacé par la version suivante"),
    ],
)
