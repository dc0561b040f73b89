"""sector strategies: the strategy proposed for a project from its sector

The administrator keeps one strategy (or tactic) per sector; the facilitator confirms the
proposals for every project of a plan that has no strategy yet (planapp/strategies.py).

Revision ID: 0022_sector_strategies
Revises: 0021_change_details
Create Date: 2026-12-05 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_sector_strategies'
down_revision = '0021_change_details'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sector_strategies',
        sa.Column('sector', sa.String(length=40), nullable=False),
        sa.Column('strategy_id', sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "sector IN ('infrastructure', 'economy', 'society', 'health', 'education_culture', "
            "'environment', 'governance')",
            name=op.f('ck_sector_strategies_sector'),
        ),
        sa.ForeignKeyConstraint(
            ['strategy_id'], ['strategies.id'],
            name=op.f('fk_sector_strategies_strategy_id_strategies'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('sector', name=op.f('pk_sector_strategies')),
    )


def downgrade():
    op.drop_table('sector_strategies')
