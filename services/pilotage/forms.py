"""The compte rendu of a comité, as the organiser fills it in (the Prefect UI's Resume form).

Hard limits are schema terms (the Prefect server refuses a longer list or text); the business
checks (actions of the contracts covered, dates, reasons) run in the handler."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from models.pilotage import DECISION_LENGTH, MAX_ACTIONS_REVIEWED, MAX_PARTICIPANTS, MINUTES_LENGTH, REASON_LENGTH
from models.text import Name, line, paragraph
from services.engine.forms import ApprovalForm, Choice, plain_fields

ActionId = Annotated[int, Field(ge=1, le=2_147_483_647)]


class Participant(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=plain_fields)

    name: Name = Field(title="Nom")
    function: line(200) | None = Field(default=None, title="Fonction et organisme (facultatif)")


class ActionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=plain_fields)

    action_id: ActionId = Field(title="N° de l'action")
    decision: paragraph(DECISION_LENGTH, min_length=0) | None = Field(
        default=None, title="Décision du comité sur l'action (facultatif)"
    )
    flag_for_review: bool = Field(default=False, title="À revoir au bilan annuel (évaluation approfondie)")
    reason: paragraph(REASON_LENGTH, min_length=0) | None = Field(
        default=None, title="Motif du signalement (si à revoir)"
    )


class CompteRenduForm(ApprovalForm):
    decision: Choice = Field(title="Décision")
    held_on: date | None = Field(
        default=None, title="Date de tenue du comité (si compte rendu)", description="Par exemple 2022-03-15."
    )
    participants: list[Participant] = Field(
        default_factory=list,
        max_length=MAX_PARTICIPANTS,
        title="Participants (facultatif)",
        description="Nom et fonction de chacun.",
    )
    reviewed_action_ids: list[ActionId] = Field(
        default_factory=list,
        max_length=MAX_ACTIONS_REVIEWED,
        title="N° des actions examinées (facultatif)",
        description="Les n° des actions des contrats suivis, par exemple 3 et 5.",
    )
    decisions: list[ActionDecision] = Field(
        default_factory=list, max_length=MAX_ACTIONS_REVIEWED, title="Décisions par action (facultatif)"
    )
    minutes: paragraph(MINUTES_LENGTH, min_length=0) | None = Field(
        default=None, title="Compte rendu : relevé de conclusions (facultatif)"
    )


class CompteRenduNationalForm(CompteRenduForm):
    decision: Choice = Field(title="Décision")
