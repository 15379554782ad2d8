"""a tamper-evident audit trail: admin_audit.row_hash, chained

Each audit row carries SHA-256 over the previous row's row_hash (in id order; the first
follows 64 zeros) and its own content: admin_id, action, target_user_id, reason, details,
request_id and created_at, as sorted compact JSON with created_at as
"%Y-%m-%dT%H:%M:%S.%fZ" in UTC. The rows that exist are chained here, oldest first; the
formula is imperioApp.services.operators.audit.row_hash, copied so that this migration runs
the same whatever the application code becomes. On PostgreSQL 0007's append-only trigger is
disabled for that one pass, inside this migration's transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

"""
import hashlib
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

GENESIS = '0' * 64
CHAINED = ('admin_id', 'action', 'target_user_id', 'reason', 'details', 'request_id', 'created_at')


def _instant(value):
    if isinstance(value, str):  # SQLite: naive UTC text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _row_hash(previous, row):
    values = {name: row[name] for name in CHAINED}
    if isinstance(values['details'], str):  # SQLite returns JSON as text
        values['details'] = json.loads(values['details'])
    values['created_at'] = _instant(values['created_at'])
    payload = json.dumps(values, sort_keys=True, separators=(',', ':'), ensure_ascii=True)
    return hashlib.sha256(f'{previous}\n{payload}'.encode()).hexdigest()


def upgrade():
    op.add_column('admin_audit', sa.Column('row_hash', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, {', '.join(CHAINED)} FROM admin_audit ORDER BY id")).mappings().all()
    postgresql = connection.dialect.name == 'postgresql'
    if postgresql:  # 0007's trigger refuses every UPDATE; this one writes only the new column
        op.execute('ALTER TABLE admin_audit DISABLE TRIGGER admin_audit_append_only')
    previous = GENESIS
    for row in rows:
        previous = _row_hash(previous, row)
        connection.execute(sa.text('UPDATE admin_audit SET row_hash = :hash WHERE id = :id'), {'hash': previous, 'id': row['id']})
    if postgresql:
        op.execute('ALTER TABLE admin_audit ENABLE TRIGGER admin_audit_append_only')
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
