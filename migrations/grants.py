"""The rights of the application's database role on PostgreSQL (``territoires db grants``).

Migrations run as the owner of the tables; the platform runs as a role that owns nothing, so it
can neither drop nor disable the triggers that guard the audit trail, and holds no right it does
not use: on the chain of decisions, reading and appending only; on its head, reading and
updating only; nowhere TRUNCATE; no schema changes.
"""

from __future__ import annotations

import re

APPEND_ONLY = {"decision": "SELECT, INSERT", "audithead": "SELECT, UPDATE"}
READ_ONLY = {"alembic_version", "installation"}
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def application_grants(role: str, database: str, tables: list[str]) -> list[str]:
    """The statements an administrator runs once after the migrations (and after each new table)."""
    if not ROLE_NAME.match(role) or not ROLE_NAME.match(database.lower()):
        raise ValueError("nom de rôle ou de base invalide : lettres minuscules, chiffres et soulignés")
    statements = [
        f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"',
        f'REVOKE CREATE ON SCHEMA public FROM "{role}"',
        f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"',
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
    ]
    for table in sorted(tables):
        rights = APPEND_ONLY.get(table) or ("SELECT" if table in READ_ONLY else "SELECT, INSERT, UPDATE, DELETE")
        statements.append(f'GRANT {rights} ON "{table}" TO "{role}"')
    return statements
