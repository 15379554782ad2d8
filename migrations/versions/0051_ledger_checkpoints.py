"""per-player ledger checkpoints for the incremental ledger check

ledger_checkpoints holds, for each player, the sum of their ledger rows up to an id, as last
checked against their balance; the incremental check (services.operators.ledger_checks)
reads only the rows after it. A new, empty table: nothing is rewritten or locked.

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0051'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_checkpoints',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('through_id', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_ledger_checkpoints'))
    )


def downgrade():
    op.drop_table('ledger_checkpoints')
