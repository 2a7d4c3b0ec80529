"""ledger_entry refuses UPDATE and DELETE (database triggers)

Revision ID: ledger_0002
Revises: 0001
"""
from alembic import op

from credits.models.ledger_triggers import statements

revision = "ledger_0002"
down_revision = 'accounts_0002'
branch_labels = None
depends_on = None


def upgrade():
    for sql in statements(op.get_bind().dialect.name):
        op.execute(sql)


def downgrade():
    for sql in statements(op.get_bind().dialect.name, drop=True):
        op.execute(sql)
