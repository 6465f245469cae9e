"""The actors: collectivités, porteurs (associations) and State agents."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import EmailStr, field_validator, model_validator
from sqlalchemy import String, UniqueConstraint
from sqlmodel import Column, Field, SQLModel
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from models.text import EmailAddress, Name, line
from models.types import UtcDateTime, utcnow


class CollectiviteType(StrEnum):
    COMMUNE = "commune"
    EPCI = "epci"
    METROPOLE = "metropole"
    COMMUNAUTE_URBAINE = "communaute_urbaine"
    DEPARTEMENT = "departement"
    REGION = "region"


COLLECTIVITE_TYPE_LABELS = {
    CollectiviteType.COMMUNE: "commune",
    CollectiviteType.EPCI: "EPCI",
    CollectiviteType.METROPOLE: "métropole",
    CollectiviteType.COMMUNAUTE_URBAINE: "communauté urbaine",
    CollectiviteType.DEPARTEMENT: "conseil départemental",
    CollectiviteType.REGION: "conseil régional",
}


class Role(StrEnum):
    INSTRUCTEUR = "instructeur"
    PREFET = "prefet"
    DIAIR = "diair"
    MINISTERE = "ministere"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.INSTRUCTEUR: "agent instructeur",
    Role.PREFET: "préfet",
    Role.DIAIR: "agent de la Diair",
    Role.MINISTERE: "agent du ministère (DGEF/DIAN)",
    Role.ADMIN: "administrateur",
}

NATIONAL_ROLES = frozenset({Role.DIAIR, Role.MINISTERE, Role.ADMIN})


def clean_siren(value: str) -> str:
    """Validated SIREN (python-stdnum), or ValueError with a French message."""
    try:
        return stdnum_siren.validate(value)
    except Exception as exc:  # stdnum raises several ValidationError subclasses
        raise ValueError(f"SIREN invalide ({value!r}) : 9 chiffres avec une clé de contrôle exacte") from exc


def clean_siret(value: str) -> str:
    try:
        return stdnum_siret.validate(value)
    except Exception as exc:
        raise ValueError(f"SIRET invalide ({value!r}) : 14 chiffres avec une clé de contrôle exacte") from exc


def is_valid_siret(value: str) -> bool:
    return stdnum_siret.is_valid(value)


# --- Collectivité ---------------------------------------------------------------------------


class CollectiviteBase(SQLModel):
    name: str = Field(min_length=2, max_length=200)
    type: CollectiviteType = Field(sa_type=String(20))
    siren: str = Field(max_length=9)
    departement_code: str = Field(foreign_key="departement.code", max_length=3)
    email: EmailStr = Field(max_length=254)
    # How its letters address the executive: « Madame la maire », « Monsieur le président »;
    # None: « Madame, Monsieur ».
    appellation: str | None = Field(default=None, max_length=60)


class Collectivite(CollectiviteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    siren: str = Field(max_length=9, unique=True, index=True)
    siret: str | None = Field(default=None, max_length=14)  # its seat's establishment: open data names it (SCDL)
    email: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class CollectiviteCreate(CollectiviteBase):
    name: Name
    email: EmailAddress
    siret: str | None = Field(default=None, max_length=14)
    appellation: line(60) | None = None

    @field_validator("siret")
    @classmethod
    def _siret(cls, value: str | None) -> str | None:
        return None if value is None else clean_siret(value)

    @field_validator("appellation")
    @classmethod
    def _appellation(cls, value: str | None) -> str | None:
        return None if value is None else check_appellation(value)

    @model_validator(mode="after")
    def _siret_of_siren(self) -> CollectiviteCreate:
        if self.siret is not None and not self.siret.startswith(self.siren):
            raise ValueError(f"le SIRET {self.siret} n'est pas un établissement du SIREN {self.siren}")
        return self

    @field_validator("siren")
    @classmethod
    def _siren(cls, value: str) -> str:
        return clean_siren(value)


class CollectivitePublic(CollectiviteBase):
    id: int


APPELLATION = re.compile(r"^(Madame|Monsieur)( (la|le) [a-zà-ÿ' -]{2,40}| l'[a-zà-ÿ' -]{2,40})?$")


def check_appellation(value: str) -> str:
    """« Madame la maire », « Monsieur le président », « Madame la présidente »: what a letter
    opens with (and its closing formula repeats)."""
    value = " ".join(value.split()).rstrip(",")
    if not APPELLATION.match(value):
        raise ValueError(
            "appellation attendue sous la forme « Madame la maire » ou « Monsieur le président » (sans nom propre)"
        )
    return value


# --- Porteur ----------------------------------------------------------------------------------


class PorteurBase(SQLModel):
    name: str = Field(min_length=2, max_length=200)
    siret: str = Field(max_length=14)
    rna: str | None = Field(default=None, max_length=10, regex=r"^W[0-9]{9}$")
    legal_form: str = Field(default="association loi 1901", max_length=100)
    cultuelle: bool = False
    email: EmailStr = Field(max_length=254)
    compte_rendu_manquant: bool = Field(
        default=False, description="R14: the last compte rendu financier (Cerfa 15059) is missing"
    )


class Porteur(PorteurBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    siret: str = Field(max_length=14, unique=True, index=True)
    email: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class PorteurCreate(PorteurBase):
    name: Name
    email: EmailAddress
    legal_form: line(100) = "association loi 1901"
    rna: str | None = Field(default=None, max_length=10)  # checked below, with a message that says what is expected

    @field_validator("rna")
    @classmethod
    def _rna(cls, value: str | None) -> str | None:
        """The association's number at the Répertoire national des associations: W and 9 digits."""
        if value is not None and not re.fullmatch(r"W[0-9]{9}", value):
            raise ValueError(f"numéro RNA invalide ({value[:20]!r}) : W suivi de 9 chiffres attendu")
        return value

    @field_validator("siret")
    @classmethod
    def _siret(cls, value: str) -> str:
        return clean_siret(value)


class PorteurPublic(PorteurBase):
    id: int


# --- Agent ------------------------------------------------------------------------------------


class AgentBase(SQLModel):
    email: EmailStr = Field(max_length=254)
    name: str = Field(min_length=2, max_length=200)
    role: Role = Field(sa_type=String(20))
    departement_code: str | None = Field(default=None, foreign_key="departement.code", max_length=3)
    # What the agent signs under « Pour le préfet et par délégation, »: « la secrétaire générale
    # de la préfecture », « le chef du bureau de l'intégration »; None: the role's office.
    title: str | None = Field(default=None, max_length=120)


class Agent(AgentBase, table=True):
    __table_args__ = (UniqueConstraint("email", name="uq_agent_email"),)
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class AgentCreate(AgentBase):
    email: EmailAddress
    name: Name
    title: line(120) | None = None

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @model_validator(mode="after")
    def _scope_matches_role(self) -> AgentCreate:
        if self.role in NATIONAL_ROLES and self.departement_code is not None:
            raise ValueError(f"le rôle « {self.role} » est national : ne pas indiquer de département")
        if self.role not in NATIONAL_ROLES and self.departement_code is None:
            raise ValueError(f"le rôle « {self.role} » exige un département (--departement)")
        return self


class AgentPublic(AgentBase):
    id: int
    active: bool


def agent_may_act_in(agent_role: Role, agent_departement: str | None, role: Role, departement: str) -> bool:
    """Whether an agent has the awaited role, in the département of the case (or nationally)."""
    if agent_role != role:
        return False
    return role in NATIONAL_ROLES or agent_departement == departement
