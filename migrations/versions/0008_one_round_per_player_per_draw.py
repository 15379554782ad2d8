"""one round per player per draw: unique (seed_id, nonce, user_id) on game_rounds

A draw (seed, nonce) belongs to one solo round, or to one shared table spin where each
player holds at most one round of it. The unique index makes the database refuse a
second round of a player from the same draw; it replaces the index on seed_id alone,
whose lookups it serves too (seed_id leads), so a round still writes as many indexes.

On PostgreSQL both steps run CONCURRENTLY, outside a transaction: game_rounds is the
largest table, and a plain CREATE INDEX would hold every settlement for the whole build.
A build that fails (a duplicated draw) leaves an INVALID index behind: drop it, resolve
the duplicate, and migrate again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

DRAW_COLUMNS = ['seed_id', 'nonce', 'user_id']


def upgrade():
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.create_index('uq_game_rounds_draw', 'game_rounds', DRAW_COLUMNS, unique=True, postgresql_concurrently=True)
            op.drop_index('ix_game_rounds_seed_id', table_name='game_rounds', postgresql_concurrently=True)
        return
    with op.batch_alter_table('game_rounds', schema=None) as batch_op:
        batch_op.create_index('uq_game_rounds_draw', DRAW_COLUMNS, unique=True)
        batch_op.drop_index('ix_game_rounds_seed_id')


def downgrade():
    with op.batch_alter_table('game_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_game_rounds_seed_id', ['seed_id'], unique=False)
        batch_op.drop_index('uq_game_rounds_draw')
