"""operators' TOTP secrets sealed at rest: room for the sealed form

The secret is now stored as "fernet:" and a Fernet token (adapters.sealing), about 147
characters for a 32-character base32 secret. Widening a varchar on PostgreSQL changes only
the catalogue (no rewrite); the secrets already stored are sealed the next time their
operator's code is accepted.

Revision ID: 0061
Revises: 0060
Create Date: 2026-12-08

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0061'
down_revision = '0060'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operator_second_factors', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=64), type_=sa.String(length=255), existing_nullable=False)


def downgrade():
    # A sealed secret does not fit the old column: those operators enrol again.
    op.execute("DELETE FROM operator_second_factors WHERE secret LIKE 'fernet:%'")
    with op.batch_alter_table('operator_second_factors', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=255), type_=sa.String(length=64), existing_nullable=False)
