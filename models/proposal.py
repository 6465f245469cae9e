"""The contract proposal file: public, yearly funding and actions (CTAI step 5)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from models.cerfa import parse_json_file
from models.reference import Domain, Public


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FundingLine(_Strict):
    annee: int = Field(ge=2019, le=2100)
    socle_eur: Decimal = Field(decimal_places=2)
    complementaire_eur: Decimal = Field(default=Decimal(0), decimal_places=2)


class ActionLine(_Strict):
    intitule: str = Field(min_length=3, max_length=300)
    domaine: Domain
    porteur_siret: str | None = Field(default=None, description="Absent : action portée par la collectivité")
    public: Public
    action_p104: int
    montant_eur: Decimal = Field(decimal_places=2)
    annee: int = Field(ge=2019, le=2100)


class ProposalFile(_Strict):
    public: Public = Field(description="bpi, ou primo_arrivants si le contrat est élargi (R2)")
    financement: list[FundingLine] = Field(min_length=1)
    actions: list[ActionLine] = Field(min_length=1)


def parse_proposal(text: str) -> ProposalFile:
    return parse_json_file(text, ProposalFile)
