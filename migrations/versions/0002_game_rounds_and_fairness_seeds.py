"""game rounds and fairness seeds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fairness_seeds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('server_seed', sa.String(length=64), nullable=False),
    sa.Column('server_seed_hash', sa.String(length=64), nullable=False),
    sa.Column('client_seed', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('nonce >= 0', name=op.f('ck_fairness_seeds_nonce_non_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_fairness_seeds_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fairness_seeds'))
    )
    with op.batch_alter_table('fairness_seeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fairness_seeds_server_seed_hash'), ['server_seed_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_fairness_seeds_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_fairness_seeds_active_user', ['user_id'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.create_table('game_rounds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('game_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('bet', sa.BigInteger(), nullable=False),
    sa.Column('payout', sa.BigInteger(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.JSON(), nullable=False),
    sa.Column('hidden_state', sa.JSON(), nullable=True),
    sa.Column('seed_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('server_seed_hash', sa.String(length=64), nullable=False),
    sa.Column('client_seed', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("game_type IN ('slots', 'blackjack', 'roulette')", name=op.f('ck_game_rounds_game_type_known')),
    sa.CheckConstraint("status IN ('open', 'settled')", name=op.f('ck_game_rounds_status_known')),
    sa.CheckConstraint('bet > 0 AND payout >= 0', name=op.f('ck_game_rounds_amounts_valid')),
    sa.ForeignKeyConstraint(['seed_id'], ['fairness_seeds.id'], name=op.f('fk_game_rounds_seed_id_fairness_seeds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_game_rounds_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_game_rounds'))
    )
    with op.batch_alter_table('game_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_game_rounds_open', ['user_id'], unique=False, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.create_index(batch_op.f('ix_game_rounds_seed_id'), ['seed_id'], unique=False)
        batch_op.create_index('ix_game_rounds_user_game_id', ['user_id', 'game_type', 'id'], unique=False)
        batch_op.create_index('ix_game_rounds_user_id', ['user_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('game_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_game_rounds_user_id')
        batch_op.drop_index('ix_game_rounds_user_game_id')
        batch_op.drop_index(batch_op.f('ix_game_rounds_seed_id'))
        batch_op.drop_index('ix_game_rounds_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.drop_table('game_rounds')
    with op.batch_alter_table('fairness_seeds', schema=None) as batch_op:
        batch_op.drop_index('uq_fairness_seeds_active_user', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
        batch_op.drop_index(batch_op.f('ix_fairness_seeds_user_id'))
        batch_op.drop_index(batch_op.f('ix_fairness_seeds_server_seed_hash'))

    op.drop_table('fairness_seeds')
