"""trigram indexes for finding players by part of a name or e-mail (PostgreSQL)

The operators' player search matches a substring (`LIKE '%...%'`), which no B-tree serves:
on a million players it read the whole users table (about a second). pg_trgm's GIN indexes
serve it from three characters on. Built CONCURRENTLY, so sign-ups and logins go on while
they build; SQLite (the embedded default, a few players) keeps scanning. The indexes are
not in the models (SQLite has no such index): models.user.POSTGRES_ONLY_INDEXES names them
for the schema comparison.

Revision ID: 0052
Revises: 0051
Create Date: 2026-12-08

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0052'
down_revision = '0051'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_users_username_trgm': 'lower(username) gin_trgm_ops',
    'ix_users_email_trgm': 'email gin_trgm_ops',
}


def upgrade():
    if op.get_context().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    with op.get_context().autocommit_block():
        for name, key in INDEXES.items():
            # A build interrupted earlier leaves an invalid index of this name behind.
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')
            op.execute(f'CREATE INDEX CONCURRENTLY {name} ON users USING gin ({key})')


def downgrade():
    if op.get_context().dialect.name != 'postgresql':
        return
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')
