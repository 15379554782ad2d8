"""an open round's last action: game_rounds.last_action_at

An open blackjack round with no action for ROUND_ABANDON_MINUTES is ended by the server
(rounds.expiry); this column is when the player last acted on it (NULL: not since it was
dealt, so created_at counts). Adding a nullable column without a default rewrites nothing
on PostgreSQL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('game_rounds', sa.Column('last_action_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('game_rounds', schema=None) as batch_op:
        batch_op.drop_column('last_action_at')
