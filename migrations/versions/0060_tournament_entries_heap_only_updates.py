"""drop the standings index, so that an entrant's round updates its entry in place (HOT)

Every round of an entrant updates its `tournament_entries` row (score, rounds, reached_at).
`ix_tournament_entries_standings` covered the score, so PostgreSQL could never update the row
heap-only: each round wrote a new entry into every index of the table, and the conflict check
of the next round walked the dead ones until a vacuum. Without it the update touches no
index. Standings and ranks read one period's entries through the (period_id, user_id) unique
index and sort them, which the index could not spare them anyway (the order is score
descending, then reached_at ascending).

Revision ID: 0060
Revises: 0052
Create Date: 2026-12-08

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0060'
down_revision = '0052'
branch_labels = None
depends_on = None

INDEX = 'ix_tournament_entries_standings'


def upgrade():
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {INDEX}')
        return
    op.drop_index(INDEX, table_name='tournament_entries')


def downgrade():
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {INDEX}')
            op.execute(f'CREATE INDEX CONCURRENTLY {INDEX} ON tournament_entries (period_id, score, reached_at)')
        return
    op.create_index(INDEX, 'tournament_entries', ['period_id', 'score', 'reached_at'])
