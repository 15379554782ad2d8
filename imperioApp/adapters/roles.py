"""Least privilege on PostgreSQL: what the runtime role may do to the schema the owner migrated.

Migrations run as the owner role (MIGRATION_DATABASE_URL); the app runs as a runtime role
(DATABASE_URL) that owns nothing, so it can never ALTER, DROP, TRUNCATE or DISABLE TRIGGER.
`runtime_grants` is every privilege it gets: reads and writes on the app's tables, and on the
audit trail only INSERT and SELECT (no UPDATE, DELETE or TRUNCATE: the trail cannot be rewritten
by the app, whatever a bug or an attacker in it does). `flask grant-runtime-role` applies them
after each migration (imperio-migrate.service).
"""

import re

APPEND_ONLY = {"admin_audit": ("SELECT", "INSERT")}
READ_ONLY = {"alembic_version": ("SELECT",)}
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def runtime_grants(role, tables):
    """The statements that give `role` exactly the runtime's privileges on `tables` (names)."""
    if not _ROLE.match(role):
        raise ValueError("a role name is 1-63 lowercase letters, digits or underscores, not starting with a digit")
    quoted = f'"{role}"'
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
    ]
    for table in sorted(tables):
        privileges = APPEND_ONLY.get(table) or READ_ONLY.get(table) or READ_WRITE
        statements.append(f'GRANT {", ".join(privileges)} ON TABLE "{table}" TO {quoted}')
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    return statements
