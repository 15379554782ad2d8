"""chat messages and chat sanctions (mutes, bans)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chat_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('room', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("room IN ('lobby', 'slots', 'blackjack', 'roulette')", name=op.f('ck_chat_messages_room_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chat_messages_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_messages'))
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_chat_messages_room_id', ['room', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_messages_user_id'), ['user_id'], unique=False)

    op.create_table('chat_sanctions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('mute', 'ban')", name=op.f('ck_chat_sanctions_kind_known')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_chat_sanctions_created_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chat_sanctions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_sanctions'))
    )
    with op.batch_alter_table('chat_sanctions', schema=None) as batch_op:
        batch_op.create_index('ix_chat_sanctions_user_kind', ['user_id', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('chat_sanctions', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_sanctions_user_kind')

    op.drop_table('chat_sanctions')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_messages_user_id'))
        batch_op.drop_index('ix_chat_messages_room_id')

    op.drop_table('chat_messages')
