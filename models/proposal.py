"""The contract proposal file: public, yearly funding and actions (CTAI step 5)."""

from __future__ import annotations

from decimal import Decimal

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


class ProposalFile(_Strict):
    public: Public = Field(description="bpi, ou primo_arrivants si le contrat est élargi (R2)")
    financement: list[FundingLine] = Field(min_length=1, max_length=10)
    actions: list[ActionLine] = Field(min_length=1, max_length=300)


def parse_proposal(text: str) -> ProposalFile:
    return parse_json_file(text, ProposalFile)
