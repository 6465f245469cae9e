"""What a legal act says, as plain data: the services fill it from the database, the templates
render it. Amounts are integer cents; dates are ``date`` (shown in French by the templates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

ActKind = Literal["arrete", "convention"]


@dataclass(frozen=True)
class ActLine:
    """One funded line: a PTAI request, or a CTAI action of the year."""

    objet: str  # the project's or the action's title
    reference: str  # « PTAI-86-2021-00004 », « CTAI-86-2021-0001, action n° 4 »
    p104_action: int  # 12 (primo-arrivants) or 15 (réfugiés)
    montant_cents: int
    domaine: str | None = None  # French label of the integration domain, if known


@dataclass(frozen=True)
class PaymentTerm:
    """One instalment of the schedule: its share of the grant and when it is paid."""

    tranche: str  # "avance", "solde"
    libelle: str  # « avance », « solde »
    part: Decimal  # 0.5
    montant_cents: int
    condition: str  # French: « à la signature de l'acte », « après réception du compte rendu financier conforme »


@dataclass(frozen=True)
class Signature:
    signataire: str  # « Jeanne Martin »
    qualite: str  # « Pour le préfet et par délégation, la secrétaire générale »
    date: date


@dataclass(frozen=True)
class ActDocument:
    kind: ActKind
    numero: str  # « AP-86-2021-0001 » (arrêté) or « CV-86-2021-0002 » (convention)
    annee: int  # the funded year
    departement_code: str  # « 86 »
    departement_nom: str  # « Vienne »
    # The beneficiary: the association that carries the lines, else the collectivité itself.
    beneficiaire_nom: str
    beneficiaire_siret: str | None  # 14 digits
    beneficiaire_rna: str | None  # W + 9 digits
    beneficiaire_est_collectivite: bool
    collectivite_nom: str  # the collectivité whose contract or request carries the lines
    cadre: str  # « contrat territorial d'accueil et d'intégration CTAI-86-2021-0001 » / « projet territorial … »
    lignes: list[ActLine]
    total_cents: int
    unite_budgetaire: str  # the département's budget unit (BOP 104), e.g. « 0104-DR86-DD86 »
    loi_de_finances: str  # « loi n° 2020-1721 du 29 décembre 2020 de finances pour 2021 »
    periode_debut: date
    periode_fin: date
    paiements: list[PaymentTerm]
    compte_rendu_echeance: date  # the compte rendu financier (Cerfa n° 15059) is due by then
    version: int = 1  # 2 and more: the act replaces the earlier version (new lines, new amounts)
    remplace: str | None = None  # the number of the act it replaces
    signature: Signature | None = None  # None: a draft, marked « PROJET »
    date_edition: date | None = None
    mentions: list[str] = field(default_factory=list)  # extra clauses a préfecture adds (plain text)
