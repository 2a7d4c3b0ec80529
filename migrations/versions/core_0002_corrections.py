"""corrections are claims: claim.kind and claim.reverses_entry_id

Revision ID: core_0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = 'ledger_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="deed", nullable=False)
        )
        batch_op.add_column(sa.Column("reverses_entry_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_claim_reverses_entry_id_ledger_entry"),
            "ledger_entry",
            ["reverses_entry_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_claim_village_reverses_entry", ["village_id", "reverses_entry_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_village_reverses_entry")
        batch_op.drop_constraint(
            batch_op.f("fk_claim_reverses_entry_id_ledger_entry"), type_="foreignkey"
        )
        batch_op.drop_column("reverses_entry_id")
        batch_op.drop_column("kind")
