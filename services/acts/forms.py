"""The préfet's signature of a legal act, as the Prefect UI's Resume form asks it."""

from datetime import date

from pydantic import Field

from models.text import line
from services.engine.forms import ApprovalForm, Choice


class SignatureActeForm(ApprovalForm):
    decision: Choice = Field(title="Décision du signataire")
    signatory_name: line(200) | None = Field(
        default=None, title="Nom du signataire (si signé)", description="Prénom et nom, par exemple « Jeanne Martin »."
    )
    signatory_title: line(200) | None = Field(
        default=None,
        title="Qualité du signataire (si signé)",
        description="Par exemple « Le préfet » ou « Pour le préfet et par délégation, la secrétaire générale ».",
    )
    signed_on: date | None = Field(
        default=None, title="Date de signature (si signé)", description="Au plus aujourd'hui ; par exemple 2026-12-04."
    )
