"""village aggregates for the township view, villagers' proposals

Revision ID: township_0002
Revises: 0001
Create Date: 2026-12-01 19:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'township_0002'
down_revision = 'boards_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('village_period',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('households_active', sa.Integer(), nullable=False),
    sa.Column('awards', sa.Integer(), nullable=False),
    sa.Column('points_awarded', sa.Integer(), nullable=False),
    sa.Column('deductions', sa.Integer(), nullable=False),
    sa.Column('points_deducted', sa.Integer(), nullable=False),
    sa.Column('redemptions', sa.Integer(), nullable=False),
    sa.Column('points_redeemed', sa.Integer(), nullable=False),
    sa.Column('reversals', sa.Integer(), nullable=False),
    sa.Column('score_net', sa.Integer(), nullable=False),
    sa.Column('balance_net', sa.Integer(), nullable=False),
    sa.Column('last_posted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_village_period_village_id_village')),
    sa.PrimaryKeyConstraint('village_id', 'period', name=op.f('pk_village_period'))
    )
    op.create_table('village_period_stat',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('awards', sa.Integer(), nullable=False),
    sa.Column('points_awarded', sa.Integer(), nullable=False),
    sa.Column('deductions', sa.Integer(), nullable=False),
    sa.Column('points_deducted', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['scheme_id'], ['scheme.id'], name=op.f('fk_village_period_stat_scheme_id_scheme')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_village_period_stat_village_id_village')),
    sa.PrimaryKeyConstraint('village_id', 'scheme_id', 'period', 'category', name=op.f('pk_village_period_stat'))
    )
    op.create_table('village_period_household',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_village_period_household_household_id_household')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_village_period_household_village_id_village')),
    sa.PrimaryKeyConstraint('village_id', 'period', 'household_id', name=op.f('pk_village_period_household'))
    )
    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('deed_date', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_proposal_claim_id_claim')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_proposal_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_proposal_household_id_household')),
    sa.ForeignKeyConstraint(['rule_id'], ['rule.id'], name=op.f('fk_proposal_rule_id_rule')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_proposal_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_village_household', ['village_id', 'household_id', 'created_at'], unique=False)
        batch_op.create_index('ix_proposal_village_ip', ['village_id', 'ip', 'created_at'], unique=False)
        batch_op.create_index('ix_proposal_village_state', ['village_id', 'state', 'created_at'], unique=False)

    # Existing ledgers: compute the aggregates once from their entries.
    from credits.oversight.aggregates import rebuild

    rebuild(op.get_bind())


def downgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_village_state')
        batch_op.drop_index('ix_proposal_village_ip')
        batch_op.drop_index('ix_proposal_village_household')

    op.drop_table('proposal')
    op.drop_table('village_period_household')
    op.drop_table('village_period_stat')
    op.drop_table('village_period')
