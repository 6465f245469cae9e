"""The contract proposal file: public, yearly funding and actions (CTAI step 5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.cerfa import Euros, parse_json_file
from models.reference import Domain, Public
from models.text import Code, Title


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FundingLine(_Strict):
    annee: int = Field(ge=2019, le=2100)
    socle_eur: Euros
    complementaire_eur: Euros = Decimal(0)


class ActionLine(_Strict):
    intitule: Title
    domaine: Domain
    porteur_siret: Code | None = Field(default=None, description="Absent : action portée par la collectivité")
    public: Public
    action_p104: int = Field(ge=0, le=999)
    montant_eur: Euros
    annee: int = Field(ge=2019, le=2100)
    nature: Literal["fonctionnement", "investissement"] = Field(
        default="fonctionnement", description="R16 : seuls les frais de fonctionnement sont finançables"
    )


class ProposalFile(_Strict):
    public: Public = Field(description="bpi, ou primo_arrivants si le contrat est élargi (R2)")
    financement: list[FundingLine] = Field(min_length=1, max_length=10)
    actions: list[ActionLine] = Field(min_length=1, max_length=300)


def parse_proposal(text: str) -> ProposalFile:
    return parse_json_file(text, ProposalFile)


class ReworkedAction(ActionLine):
    id: int = Field(ge=1, le=2_147_483_647, description="N° de l'action signalée par la Diair (territoires ctai show)")


class ReworkFile(_Strict):
    """The collectivité's answer to the Diair: the flagged actions, changed, by their number."""

    actions: list[ReworkedAction] = Field(min_length=1, max_length=300)


def parse_rework(text: str) -> ReworkFile:
    return parse_json_file(text, ReworkFile)


class CtairDiagnostic(_Strict):
    annee: int = Field(ge=2015, le=2100)
    bpi: int = Field(ge=0, le=1_000_000)


class CtairFile(ProposalFile):
    """An existing CTAIR (2019–2020): its public (bpi), funding, actions and diagnostic."""

    diagnostic: CtairDiagnostic = Field(description="Le diagnostic sur lequel le CTAIR a été signé (R6)")


def parse_ctair(text: str) -> CtairFile:
    return parse_json_file(text, CtairFile)


class ReviewActionLine(_Strict):
    action_id: int = Field(ge=1, le=2_147_483_647, description="N° de l'action de l'année (territoires ctai show)")
    realisee: bool
    public_atteint: int = Field(ge=0, le=1_000_000, description="Nombre de personnes accompagnées")
    consomme_eur: Euros


class ReviewFile(_Strict):
    """The collectivité's bilan of the year reviewed, action by action, as it transmits it."""

    actions: list[ReviewActionLine] = Field(min_length=1, max_length=300)


def parse_review(text: str) -> ReviewFile:
    return parse_json_file(text, ReviewFile)
