"""engagement: statistics, achievements (seeded), leaderboards, notifications, public stats

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ACHIEVEMENTS = [
    (1, 'first_slots', 'First Spin', 'Play your first round of Cherry Charm slots.', 'firsts', 'games_played:slots', 1, 'slots'),
    (2, 'first_blackjack', 'First Hand', 'Play your first hand of blackjack.', 'firsts', 'games_played:blackjack', 1, 'blackjack'),
    (3, 'first_roulette', 'First Wheel', 'Play your first spin of roulette.', 'firsts', 'games_played:roulette', 1, 'roulette'),
    (4, 'rounds_10', 'Getting Started', 'Play 10 rounds.', 'rounds', 'games_played', 10, 'rounds-bronze'),
    (5, 'rounds_100', 'Regular', 'Play 100 rounds.', 'rounds', 'games_played', 100, 'rounds-silver'),
    (6, 'rounds_1000', 'Devoted', 'Play 1,000 rounds.', 'rounds', 'games_played', 1000, 'rounds-gold'),
    (7, 'win_streak_3', 'Hot Streak', 'Win 3 rounds in a row.', 'streaks', 'best_streak', 3, 'flame'),
    (8, 'win_streak_5', 'On Fire', 'Win 5 rounds in a row.', 'streaks', 'best_streak', 5, 'fire'),
    (9, 'natural_blackjack', 'Natural', 'Be dealt a natural blackjack.', 'special', 'signature_hits:blackjack', 1, 'ace-spades'),
    (10, 'three_cherries', 'Cherry Jackpot', 'Line up three cherries.', 'special', 'signature_hits:slots', 1, 'cherries'),
    (11, 'straight_up_hit', 'Straight Up', 'Win a straight-up roulette bet on a single number.', 'special', 'signature_hits:roulette', 1, 'bullseye'),
    (12, 'big_win', 'Big Winner', 'Win at least the big-win amount in a single round.', 'special', 'big_wins', 1, 'trophy'),
    (13, 'wagered_1000', 'High Roller', 'Wager 1,000 coins in total.', 'wagering', 'total_wagered', 1000, 'chips'),
    (14, 'wagered_100000', 'Whale', 'Wager 100,000 coins in total.', 'wagering', 'total_wagered', 100000, 'whale'),
    (15, 'all_three_games', 'Explorer', 'Play slots, blackjack and roulette.', 'variety', 'games_tried', 3, 'compass'),
    (16, 'balance_10000', 'Deep Pockets', 'End a round with a balance of 10,000 coins.', 'balance', 'balance', 10000, 'coin-stack'),
]


def upgrade():
    achievements = op.create_table('achievements',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('threshold', sa.BigInteger(), nullable=False),
    sa.Column('icon', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_achievements')),
    sa.UniqueConstraint('code', name=op.f('uq_achievements_code'))
    )
    op.create_table('leaderboard_entries',
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("metric IN ('total_winnings', 'biggest_win', 'games_played')", name=op.f('ck_leaderboard_entries_metric_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_leaderboard_entries_user_id_users')),
    sa.PrimaryKeyConstraint('metric', 'period', 'user_id', name=op.f('pk_leaderboard_entries'))
    )
    with op.batch_alter_table('leaderboard_entries', schema=None) as batch_op:
        batch_op.create_index('ix_leaderboard_entries_rank', ['metric', 'period', sa.text('score DESC'), 'user_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("type IN ('achievement', 'big_win', 'system')", name=op.f('ck_notifications_type_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_unread', ['user_id', 'id'], unique=False, sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
        batch_op.create_index('ix_notifications_user_id', ['user_id', 'id'], unique=False)

    op.create_table('user_achievements',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('unlocked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_user_achievements_achievement_id_achievements')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_achievements_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'achievement_id', name=op.f('pk_user_achievements'))
    )
    op.create_table('user_stats',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('game_type', sa.String(length=20), nullable=False),
    sa.Column('games_played', sa.BigInteger(), nullable=False),
    sa.Column('games_won', sa.BigInteger(), nullable=False),
    sa.Column('total_wagered', sa.BigInteger(), nullable=False),
    sa.Column('total_won', sa.BigInteger(), nullable=False),
    sa.Column('biggest_win', sa.BigInteger(), nullable=False),
    sa.Column('current_streak', sa.Integer(), nullable=False),
    sa.Column('best_streak', sa.Integer(), nullable=False),
    sa.Column('big_wins', sa.BigInteger(), nullable=False),
    sa.Column('signature_hits', sa.BigInteger(), nullable=False),
    sa.Column('games_mask', sa.Integer(), nullable=False),
    sa.Column('achievements_mask', sa.BigInteger(), nullable=False),
    sa.Column('last_played_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("game_type IN ('all', 'slots', 'blackjack', 'roulette')", name=op.f('ck_user_stats_game_type_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_stats_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'game_type', name=op.f('pk_user_stats'))
    )
    # The catalogue. A snapshot, not an import of application code: later changes to the
    # catalogue are new migrations. `id` doubles as the bit in user_stats.achievements_mask.
    op.bulk_insert(achievements, [
        dict(zip(('id', 'code', 'name', 'description', 'category', 'metric', 'threshold', 'icon'), row))
        for row in ACHIEVEMENTS
    ])
    # Not in batch mode: SQLite adds a column in place, while a batch copy of `users` would
    # lose the expression index on lower(username), which SQLite cannot reflect.
    op.add_column('users', sa.Column('public_stats', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    op.drop_column('users', 'public_stats')

    op.drop_table('user_stats')
    op.drop_table('user_achievements')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id')
        batch_op.drop_index('ix_notifications_unread', sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))

    op.drop_table('notifications')
    with op.batch_alter_table('leaderboard_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_leaderboard_entries_rank')

    op.drop_table('leaderboard_entries')
    op.drop_table('achievements')
