"""back office: operator roles, second factor, four eyes on adjustments, exclusion from rankings

`users.role` gains the operator roles support and risk (ordered player < support < risk <
admin); `users.ranking_excluded` keeps a player out of leaderboards and tournament standings.
Operators' TOTP secrets and hashed recovery codes get their own tables; a session records when
its operator proved the second factor. Adjustments waiting for a second admin are kept in
`pending_adjustments` until approved (then written to the ledger once) or rejected.

Revision ID: 0030
Revises: 0020
Create Date: 2026-12-08

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0020"
branch_labels = None
depends_on = None


OLD_ROLES = "role IN ('player', 'admin')"
NEW_ROLES = "role IN ('player', 'support', 'risk', 'admin')"
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _replace_role_check(condition):
    if op.get_bind().dialect.name == "postgresql":
        # NOT VALID, then VALIDATE: the rows are checked under a lock that lets writers go on.
        op.drop_constraint(op.f("ck_users_role_known"), "users", type_="check")
        op.execute(f"ALTER TABLE users ADD CONSTRAINT ck_users_role_known CHECK ({condition}) NOT VALID")
        op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_role_known")
        return
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role_known"), condition)
    # SQLite's batch mode rebuilds the table and drops its expression index: put it back.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE UNIQUE INDEX IF NOT EXISTS uq_users_username_lower ON users (lower(username))")


def upgrade():
    _replace_role_check(NEW_ROLES)
    op.add_column("users", sa.Column("ranking_excluded", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Not in batch mode (it would rebuild users on SQLite): a partial index of the excluded few,
    # built CONCURRENTLY on PostgreSQL (outside the transaction) so sign-ups and logins go on.
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_ranking_excluded")
            op.execute("CREATE INDEX CONCURRENTLY ix_users_ranking_excluded ON users (id) WHERE ranking_excluded IS true")
    else:
        op.create_index("ix_users_ranking_excluded", "users", ["id"], unique=False, sqlite_where=sa.text("ranking_excluded IS 1"))
    op.add_column("sessions", sa.Column("second_factor_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "operator_second_factors",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_operator_second_factors_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_operator_second_factors")),
    )
    op.create_table(
        "operator_recovery_codes",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_operator_recovery_codes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_recovery_codes")),
    )
    with op.batch_alter_table("operator_recovery_codes", schema=None) as batch_op:
        batch_op.create_index("ix_operator_recovery_codes_user", ["user_id"], unique=False)
    op.create_table(
        "pending_adjustments",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f("ck_pending_adjustments_status_known")),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_pending_adjustments_amount_non_zero")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_pending_adjustments_user_id_users")),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], name=op.f("fk_pending_adjustments_requested_by_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_pending_adjustments_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_adjustments")),
    )
    with op.batch_alter_table("pending_adjustments", schema=None) as batch_op:
        batch_op.create_index("ix_pending_adjustments_status", ["status", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("pending_adjustments", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_adjustments_status")
    op.drop_table("pending_adjustments")
    with op.batch_alter_table("operator_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_recovery_codes_user")
    op.drop_table("operator_recovery_codes")
    op.drop_table("operator_second_factors")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("second_factor_at")
    op.execute("UPDATE users SET role = 'player' WHERE role IN ('support', 'risk')")
    op.drop_index("ix_users_ranking_excluded", table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("ranking_excluded")
    _replace_role_check(OLD_ROLES)
