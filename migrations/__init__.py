"""Alembic migrations, bound to SQLModel.metadata. Run them with ``territoires db upgrade``."""
