"""tournaments: definitions, periods and entries; their ledger types; the players' competing flag

The ledger gains three types (tournament_fee, tournament_refund, tournament_prize) whose rows
carry a key naming what they pay (tournament, period, and rank or player); a partial unique
index on that key makes the database refuse a second payment of the same thing, whichever
process tries it. Notifications gain the type tournament_prize. `users.competing` marks the
players who may hold a scoring entry: settlement scores tournaments for them only.

Revision ID: 0020
Revises: 0010
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0010'
branch_labels = None
depends_on = None


OLD_LEDGER = "('signup_bonus', 'bet', 'win', 'refund', 'bonus', 'adjustment')"
NEW_LEDGER = "('signup_bonus', 'bet', 'win', 'refund', 'bonus', 'adjustment', 'tournament_fee', 'tournament_refund', 'tournament_prize')"
OLD_NOTE = "('achievement', 'big_win', 'system')"
NEW_NOTE = "('achievement', 'big_win', 'system', 'tournament_prize')"


def _replace_check(table, name, condition):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(name), type_='check')
        batch_op.create_check_constraint(op.f(name), condition)


def upgrade():
    op.create_table('tournaments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('games_mask', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('multiplier_cap', sa.BigInteger(), nullable=False),
    sa.Column('min_bet', sa.BigInteger(), nullable=False),
    sa.Column('min_rounds', sa.Integer(), nullable=False),
    sa.Column('max_rounds', sa.Integer(), nullable=True),
    sa.Column('max_entrants', sa.Integer(), nullable=True),
    sa.Column('join_required', sa.Boolean(), nullable=False),
    sa.Column('entry_fee', sa.BigInteger(), nullable=False),
    sa.Column('prize_mode', sa.String(length=12), nullable=False),
    sa.Column('prize_amount', sa.BigInteger(), nullable=False),
    sa.Column('rake_percent', sa.Integer(), nullable=False),
    sa.Column('guaranteed_pool', sa.BigInteger(), nullable=False),
    sa.Column('payouts', sa.JSON(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_seconds', sa.BigInteger(), nullable=True),
    sa.Column('repeat_every_seconds', sa.BigInteger(), nullable=True),
    sa.Column('repeat_count', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("metric IN ('wagered', 'net_win', 'multiplier_points', 'best_multiplier')", name=op.f('ck_tournaments_metric_known')),
    sa.CheckConstraint("prize_mode IN ('fixed', 'entry_fees')", name=op.f('ck_tournaments_prize_mode_known')),
    sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f('ck_tournaments_status_known')),
    sa.CheckConstraint('entry_fee >= 0 AND prize_amount >= 0 AND guaranteed_pool >= 0', name=op.f('ck_tournaments_coins_non_negative')),
    sa.CheckConstraint('rake_percent >= 0 AND rake_percent <= 100', name=op.f('ck_tournaments_rake_percent_range')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_tournaments_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tournaments'))
    )
    op.create_table('tournament_periods',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tournament_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('open_to_all', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('entrants', sa.Integer(), server_default='0', nullable=False),
    sa.Column('fees', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('pool', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closing', 'closed', 'cancelled')", name=op.f('ck_tournament_periods_status_known')),
    sa.ForeignKeyConstraint(['tournament_id'], ['tournaments.id'], name=op.f('fk_tournament_periods_tournament_id_tournaments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tournament_periods')),
    sa.UniqueConstraint('tournament_id', 'number', name='uq_tournament_periods_number')
    )
    with op.batch_alter_table('tournament_periods', schema=None) as batch_op:
        batch_op.create_index('ix_tournament_periods_status_ends', ['status', 'ends_at'], unique=False)

    op.create_table('tournament_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tournament_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('reached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reached_round_id', sa.BigInteger(), nullable=True),
    sa.Column('final', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('prize', sa.BigInteger(), nullable=True),
    sa.Column('prize_paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rounds >= 0 AND fee >= 0', name=op.f('ck_tournament_entries_counts_non_negative')),
    sa.ForeignKeyConstraint(['period_id'], ['tournament_periods.id'], name=op.f('fk_tournament_entries_period_id_tournament_periods')),
    sa.ForeignKeyConstraint(['tournament_id'], ['tournaments.id'], name=op.f('fk_tournament_entries_tournament_id_tournaments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tournament_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tournament_entries')),
    sa.UniqueConstraint('period_id', 'user_id', name='uq_tournament_entries_period_user')
    )
    with op.batch_alter_table('tournament_entries', schema=None) as batch_op:
        batch_op.create_index('ix_tournament_entries_standings', ['period_id', 'score', 'reached_at'], unique=False)
        batch_op.create_index('ix_tournament_entries_user', ['user_id', 'period_id'], unique=False)

    _replace_check('transactions', 'ck_transactions_type_known', "type IN " + NEW_LEDGER)
    _replace_check('notifications', 'ck_notifications_type_known', "type IN " + NEW_NOTE)
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.create_index('uq_transactions_tournament_key', ['idempotency_key'], unique=True, sqlite_where=sa.text("type IN ('tournament_fee', 'tournament_refund', 'tournament_prize')"), postgresql_where=sa.text("type IN ('tournament_fee', 'tournament_refund', 'tournament_prize')"))

    # Not in batch mode: rebuilding users on SQLite would lose its expression index.
    op.add_column('users', sa.Column('competing', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    op.drop_column('users', 'competing')

    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index('uq_transactions_tournament_key', sqlite_where=sa.text("type IN ('tournament_fee', 'tournament_refund', 'tournament_prize')"), postgresql_where=sa.text("type IN ('tournament_fee', 'tournament_refund', 'tournament_prize')"))

    with op.batch_alter_table('tournament_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_tournament_entries_user')
        batch_op.drop_index('ix_tournament_entries_standings')

    op.drop_table('tournament_entries')
    with op.batch_alter_table('tournament_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_tournament_periods_status_ends')

    op.drop_table('tournament_periods')
    op.drop_table('tournaments')
    _replace_check('notifications', 'ck_notifications_type_known', "type IN " + OLD_NOTE)
    _replace_check('transactions', 'ck_transactions_type_known', "type IN " + OLD_LEDGER)
