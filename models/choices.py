"""The decisions as agents pick them in the approval forms: French words for each decision code.

The state machines, the audit trail and the scripts keep the stable codes (``sign``,
``favourable``…); people choose among these French wordings, which the approval form turns back into
codes before the engine judges the answer. A code is still accepted where a wording is expected, so a form shown
before a wording changed can still be answered.
"""

from __future__ import annotations

CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "ctai": {
        "engagement": {"received": "lettre reçue"},
        "echange": {"held": "temps d'échange tenu"},
        "diagnostic": {"approve": "valider le diagnostic", "rework": "faire retravailler le diagnostic"},
        "coordinateur": {"record": "enregistrer le coordinateur", "skip": "pas de coordinateur"},
        "proposition": {"approve": "proposition complète", "rework": "faire retravailler la proposition"},
        "signature": {
            "sign": "signer le contrat",
            "rework": "renvoyer la proposition",
            "reject": "refuser la signature",
        },
        "revue_diair": {"approve": "actions conformes", "rework": "actions à retravailler"},
        "bilan": {
            "prolong": "prolonger les actions",
            "amend": "proposer un avenant",
            "end": "proposer la fin du contrat",
            "renew": "proposer le renouvellement du contrat",
        },
        "bilan_signature": {
            "sign_amendment": "signer l'avenant",
            "sign_end": "signer la fin du contrat",
            "rework": "renvoyer le bilan à l'instruction",
        },
        "elargissement": {"sign": "signer le CTAI", "reject": "refuser l'élargissement"},
    },
    "ptai": {
        "instruction": {
            "favourable": "avis favorable",
            "unfavourable": "avis défavorable",
            "rework": "demander des compléments",
        },
        "validation": {"validate": "valider et transmettre", "reject": "rejeter la demande"},
    },
    "lot": {
        "arbitrage": {"approve": "approuver le lot", "reject": "rejeter le lot"},
    },
    "acte": {
        "signature": {"sign": "signer l'acte", "reject": "refuser de signer l'acte"},
    },
    "crf": {
        "examen": {
            "compliant": "compte rendu conforme",
            "rework": "compte rendu incomplet : demander des compléments",
            "non_compliant": "compte rendu non conforme : demander un reversement",
        },
    },
    "comite": {
        # local (the préfet) and national (the Diair): one step per organiser, the same decisions
        "compte_rendu": {"record": "enregistrer le compte rendu", "cancel": "annuler le comité"},
        "compte_rendu_national": {"record": "enregistrer le compte rendu", "cancel": "annuler le comité"},
    },
}


# The decisions that go against the collectivité or the association they are sent to: their
# letter gives the voies et délais de recours.
UNFAVOURABLE: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("ctai", "signature", "reject"),
        ("ctai", "elargissement", "reject"),
        ("ctai", "bilan_signature", "sign_end"),
        ("ptai", "validation", "reject"),
        ("crf", "examen", "non_compliant"),
        ("acte", "signature", "reject"),
    }
)


def wordings(case: str, step: str) -> tuple[str, ...]:
    return tuple(CHOICES[case][step].values())


def wording(case: str, step: str, code: str) -> str:
    return CHOICES[case][step].get(code, code)


def decision_code(case: str, step: str, value: str) -> str:
    """The code of a wording (or the code itself); anything else is returned as given, for the
    state machine to refuse with its own message."""
    for code, text in CHOICES[case][step].items():
        if value in (code, text):
            return code
    return value
