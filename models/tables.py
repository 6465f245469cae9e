"""Imports every table module, so that SQLModel.metadata knows them all (Alembic, tests)."""

from models import actors, acts, approval, ctai, decision, delegation, outbox, pilotage, ptai, reference, reminders  # noqa: F401 - imported for its side effect: registers the tables on SQLModel.metadata
