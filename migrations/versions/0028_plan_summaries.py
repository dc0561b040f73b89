"""plan summaries: each plan's roll-up figures, kept current in the transaction of each change

The country and province roll-ups added up every project of the year on each request (issue 18);
they now add up these per-plan figures. Empty after the upgrade: a plan without a summary of its
current version is counted from its projects, and `flask --app app rollups refresh` fills them.

Revision ID: 0028_plan_summaries
Revises: 0027_pending_imports
Create Date: 2026-12-06 12:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0028_plan_summaries'
down_revision = '0027_pending_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'plan_summaries',
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['plan_id'], ['plans.id'], name=op.f('fk_plan_summaries_plan_id_plans'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_plan_summaries')),
    )
    op.create_table(
        'plan_summary_figures',
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('figure', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('satang', sa.BigInteger(), nullable=False),
        sa.Column('ordinance_satang', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ['plan_id'], ['plans.id'], name=op.f('fk_plan_summary_figures_plan_id_plans'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('plan_id', 'figure', 'key', name=op.f('pk_plan_summary_figures')),
    )


def downgrade():
    op.drop_table('plan_summary_figures')
    op.drop_table('plan_summaries')
