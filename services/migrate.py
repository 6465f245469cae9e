"""Runs the Alembic migrations programmatically (``territoires db upgrade``)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config

from services.db import get_engine


def alembic_config(url: str) -> Config:
    ini = resources.files("migrations").joinpath("alembic.ini")
    cfg = Config(str(ini))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    engine = get_engine(url)
    with engine.begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
