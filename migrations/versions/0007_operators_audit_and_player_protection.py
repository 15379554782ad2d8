"""operators' audit trail (append-only), player limits and their history, exclusions, reality checks

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('admin_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['users.id'], name=op.f('fk_admin_audit_admin_id_users')),
    sa.ForeignKeyConstraint(['target_user_id'], ['users.id'], name=op.f('fk_admin_audit_target_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit'))
    )
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.create_index('ix_admin_audit_admin_id', ['admin_id', 'id'], unique=False)
        batch_op.create_index('ix_admin_audit_target_id', ['target_user_id', 'id'], unique=False)

    op.create_table('limit_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('previous', sa.BigInteger(), nullable=True),
    sa.Column('requested', sa.BigInteger(), nullable=True),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_limit_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_limit_changes'))
    )
    with op.batch_alter_table('limit_changes', schema=None) as batch_op:
        batch_op.create_index('ix_limit_changes_user_id', ['user_id', 'id'], unique=False)

    op.create_table('player_exclusions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('timeout', 'self_exclusion')", name=op.f('ck_player_exclusions_kind_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_player_exclusions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_player_exclusions'))
    )
    with op.batch_alter_table('player_exclusions', schema=None) as batch_op:
        batch_op.create_index('ix_player_exclusions_user_id', ['user_id', 'id'], unique=False)

    op.create_table('player_limits',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('pending_amount', sa.BigInteger(), nullable=True),
    sa.Column('pending_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('loss', 'wager')", name=op.f('ck_player_limits_kind_known')),
    sa.CheckConstraint("period IN ('day', 'week', 'month')", name=op.f('ck_player_limits_period_known')),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_player_limits_amount_positive')),
    sa.CheckConstraint('pending_amount IS NULL OR pending_amount > 0', name=op.f('ck_player_limits_pending_amount_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_player_limits_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'kind', 'period', name=op.f('pk_player_limits'))
    )
    op.create_table('reality_checks',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('session_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_bet_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('interval_minutes > 0', name=op.f('ck_reality_checks_interval_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reality_checks_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reality_checks'))
    )
    # Plain ADD COLUMN: a batch rebuild of users on SQLite would drop its expression index.
    op.add_column('users', sa.Column('protection_active', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))



    if op.get_bind().dialect.name == "postgresql":
        # The audit trail is append-only in the database itself, not just by convention.
        op.execute(
            "CREATE FUNCTION admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'admin_audit is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit "
            "FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER admin_audit_append_only ON admin_audit")
        op.execute("DROP FUNCTION admin_audit_append_only()")
    op.drop_column('users', 'suspended_at')
    op.drop_column('users', 'protection_active')

    op.drop_table('reality_checks')
    op.drop_table('player_limits')
    with op.batch_alter_table('player_exclusions', schema=None) as batch_op:
        batch_op.drop_index('ix_player_exclusions_user_id')

    op.drop_table('player_exclusions')
    with op.batch_alter_table('limit_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_limit_changes_user_id')

    op.drop_table('limit_changes')
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_audit_target_id')
        batch_op.drop_index('ix_admin_audit_admin_id')

    op.drop_table('admin_audit')
