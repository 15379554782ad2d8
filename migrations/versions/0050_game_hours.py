"""hourly game rollups, their watermark, and game_rounds by settled_at

game_hours (rounds, wagered and paid per game and UTC hour) and game_hour_wins (the largest
net wins of each game's hour) are filled by `flask rollup` (services.operators.rollups),
so that RTP and the biggest wins over any range read hours, not rounds. The index on
game_rounds.settled_at finds the rounds of the hours not yet rolled up. On PostgreSQL it is
built CONCURRENTLY, outside the migration's transaction: writers are never locked out while
it reads a table of millions of rows (tests/test_migration_locks.py).

Revision ID: 0050
Revises: 0020
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0050'
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('game_hours',
    sa.Column('game_type', sa.String(length=20), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rounds', sa.BigInteger(), nullable=False),
    sa.Column('wagered', sa.BigInteger(), nullable=False),
    sa.Column('paid', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('game_type', 'hour', name=op.f('pk_game_hours'))
    )
    op.create_table('game_hour_wins',
    sa.Column('round_id', sa.BigInteger(), nullable=False),
    sa.Column('game_type', sa.String(length=20), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_game_hour_wins'))
    )
    with op.batch_alter_table('game_hour_wins', schema=None) as batch_op:
        batch_op.create_index('ix_game_hour_wins_hour', ['hour'], unique=False)
        batch_op.create_index('ix_game_hour_wins_net', ['net', 'round_id'], unique=False)
    op.create_table('watermarks',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('through_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('through_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_watermarks'))
    )
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            # A build interrupted earlier leaves an invalid index of this name behind.
            op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_game_rounds_settled_at')
            op.create_index('ix_game_rounds_settled_at', 'game_rounds', ['settled_at'], postgresql_concurrently=True)
    else:
        op.create_index('ix_game_rounds_settled_at', 'game_rounds', ['settled_at'])


def downgrade():
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index('ix_game_rounds_settled_at', table_name='game_rounds', postgresql_concurrently=True)
    else:
        op.drop_index('ix_game_rounds_settled_at', table_name='game_rounds')
    op.drop_table('watermarks')
    with op.batch_alter_table('game_hour_wins', schema=None) as batch_op:
        batch_op.drop_index('ix_game_hour_wins_net')
        batch_op.drop_index('ix_game_hour_wins_hour')
    op.drop_table('game_hour_wins')
    op.drop_table('game_hours')
