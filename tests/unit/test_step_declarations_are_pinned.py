"""The step declarations pinned by a literal table: a changed wording, history label, target status,
awaited role, needed field, four-eyes rule or money flag fails here, whatever the forms derive.

The table was checked against the state before the declarations existed (commit 1d64f85:
``models/choices.py``'s wordings and UNFAVOURABLE, the transitions of ``models/ctai.py``,
``ptai.py``, ``delegation.py``, ``acts.py``, ``pilotage.py``, the forms' ``needs``, the CTAI's
FUNDING_DECISIONS and the steps' ``four_eyes``): the same, ``withdraws`` being new. Change a row
only with the procedure (DOMAIN.md) that changes it.
"""

from __future__ import annotations

from services.cases import KINDS

F = False
T = True

# (case, step, code): (wording, history label, target status, awaited role, needs,
#                      four eyes, grants, withdraws, unfavourable)
# fmt: off
PINNED = {
    ("ctai", "engagement", "received"): (
        "lettre reçue", "lettre d'engagement reçue",
        "exchange", "instructeur", ("letter_date", "signatory"), F, F, F, F),
    ("ctai", "echange", "held"): (
        "temps d'échange tenu", "temps d'échange tenu", "diagnostic", "instructeur", ("meeting_date",), F, F, F, F),
    ("ctai", "diagnostic", "approve"): (
        "valider le diagnostic", "diagnostic validé", "coordinator", "instructeur", ("bpi_count",), F, F, F, F),
    ("ctai", "diagnostic", "rework"): (
        "faire retravailler le diagnostic", "diagnostic à retravailler", "diagnostic", "instructeur", (), F, F, F, F),
    ("ctai", "coordinateur", "record"): (
        "enregistrer le coordinateur", "coordinateur enregistré",
        "proposal", "instructeur", ("coordinator_name",), F, F, F, F),
    ("ctai", "coordinateur", "skip"): (
        "pas de coordinateur", "pas de coordinateur", "proposal", "instructeur", (), F, F, F, F),
    ("ctai", "proposition", "approve"): (
        "proposition complète", "proposition complète", "signature", "instructeur", (), F, F, F, F),
    ("ctai", "proposition", "rework"): (
        "faire retravailler la proposition", "proposition à retravailler", "proposal", "instructeur", (), F, F, F, F),
    ("ctai", "signature", "sign"): (
        "signer le contrat", "contrat signé",
        "diair_review", "prefet", ("signature_date", "elu_signature_date"), T, T, F, F),
    ("ctai", "signature", "rework"): (
        "renvoyer la proposition", "proposition renvoyée pour reprise", "proposal", "prefet", (), T, F, F, F),
    ("ctai", "signature", "reject"): (
        "refuser la signature", "signature refusée", "refused", "prefet", (), T, F, F, T),
    ("ctai", "revue_diair", "approve"): (
        "actions conformes", "actions conformes", "active", "diair", (), F, F, F, F),
    ("ctai", "revue_diair", "rework"): (
        "actions à retravailler", "actions à retravailler",
        "diair_rework", "diair", ("rework_action_ids", "comment"), F, F, F, F),
    ("ctai", "bilan", "prolong"): (
        "prolonger les actions", "actions prolongées", "active", "instructeur", (), F, T, F, F),
    ("ctai", "bilan", "amend"): (
        "proposer un avenant", "avenant proposé au préfet",
        "review_signature", "instructeur", ("amount_eur",), F, F, F, F),
    ("ctai", "bilan", "end"): (
        "proposer la fin du contrat", "fin du contrat proposée au préfet",
        "review_signature", "instructeur", (), F, F, F, F),
    ("ctai", "bilan", "renew"): (
        "proposer le renouvellement du contrat", "renouvellement proposé au préfet",
        "review_signature", "instructeur", (), F, F, F, F),
    ("ctai", "bilan_signature", "sign_amendment"): (
        "signer l'avenant", "avenant signé", "active", "prefet", ("signature_date",), T, T, F, F),
    ("ctai", "bilan_signature", "sign_end"): (
        "signer la fin du contrat", "fin du contrat signée", "ended", "prefet", ("signature_date",), T, F, F, T),
    ("ctai", "bilan_signature", "rework"): (
        "renvoyer le bilan à l'instruction", "bilan renvoyé à l'instruction",
        "yearly_review", "prefet", (), T, F, F, F),
    ("ctai", "elargissement", "sign"): (
        "signer le CTAI", "CTAI signé en lieu et place du CTAIR",
        "diair_review", "prefet", ("signature_date", "elu_signature_date"), T, T, F, F),
    ("ctai", "elargissement", "reject"): (
        "refuser l'élargissement", "élargissement refusé", "refused", "prefet", (), T, F, F, T),
    ("ptai", "instruction", "favourable"): (
        "avis favorable", "avis favorable", "prefet_validation", "instructeur", ("amount_eur",), F, F, F, F),
    ("ptai", "instruction", "unfavourable"): (
        "avis défavorable", "avis défavorable", "prefet_validation", "instructeur", ("comment",), F, F, F, F),
    ("ptai", "instruction", "rework"): (
        "demander des compléments", "complément demandé",
        "awaiting_applicant", "instructeur", ("comment", "rework_deadline"), F, F, F, F),
    ("ptai", "validation", "validate"): (
        "valider et transmettre", "validée et transmise au ministère", "transmitted", "prefet", (), T, F, F, F),
    ("ptai", "validation", "reject"): (
        "rejeter la demande", "rejetée par le préfet", "rejected", "prefet", ("comment",), T, F, F, T),
    ("lot", "arbitrage", "approve"): (
        "approuver le lot", "lot approuvé", "approved", "ministere", (), F, F, F, F),
    ("lot", "arbitrage", "reject"): (
        "rejeter le lot", "lot rejeté", "rejected", "ministere", (), F, F, F, F),
    ("comite", "compte_rendu", "record"): (
        "enregistrer le compte rendu", "compte rendu enregistré", "held", "prefet", ("held_on",), F, F, F, F),
    ("comite", "compte_rendu", "cancel"): (
        "annuler le comité", "comité annulé", "cancelled", "prefet", ("comment",), F, F, F, F),
    ("comite", "compte_rendu_national", "record"): (
        "enregistrer le compte rendu", "compte rendu enregistré", "held", "diair", ("held_on",), F, F, F, F),
    ("comite", "compte_rendu_national", "cancel"): (
        "annuler le comité", "comité annulé", "cancelled", "diair", ("comment",), F, F, F, F),
    ("acte", "signature", "sign"): (
        "signer l'acte", "acte signé",
        "signed", "prefet", ("signatory_name", "signatory_title", "signed_on"), F, F, F, F),
    ("acte", "signature", "reject"): (
        "refuser de signer l'acte", "signature refusée", "cancelled", "prefet", ("comment",), F, F, T, T),
    ("crf", "examen", "compliant"): (
        "compte rendu conforme", "compte rendu conforme", "compliant", "instructeur", (), F, F, F, F),
    ("crf", "examen", "rework"): (
        "compte rendu incomplet : demander des compléments", "compte rendu incomplet",
        "incomplete", "instructeur", ("comment", "complement_deadline"), F, F, F, F),
    ("crf", "examen", "non_compliant"): (
        "compte rendu non conforme : demander un reversement", "compte rendu non conforme",
        "non_compliant", "instructeur", ("comment", "repay_eur"), F, F, T, T),
}
# fmt: on


def _declared() -> dict[tuple[str, str, str], tuple]:
    return {
        (entity, step.name, str(d.code)): (
            d.wording,
            d.label,
            str(d.target),
            str(step.role),
            tuple(d.needs),
            step.four_eyes,
            d.grants,
            d.withdraws,
            d.unfavourable,
        )
        for entity, kind in KINDS.items()
        for step in kind.steps.values()
        for d in step.decisions
    }


def test_every_decision_keeps_its_wording_label_target_role_needs_and_money_flags():
    declared = _declared()
    assert sorted(declared) == sorted(PINNED)  # no decision added or dropped
    changed = {key: (declared[key], PINNED[key]) for key in PINNED if declared[key] != PINNED[key]}
    assert changed == {}


def test_only_the_acts_refusal_and_a_non_compliant_compte_rendu_take_money_back():
    assert {key for key, row in _declared().items() if row[7]} == {
        ("acte", "signature", "reject"),
        ("crf", "examen", "non_compliant"),
    }
