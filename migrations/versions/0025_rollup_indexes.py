"""rollup indexes: the lookups the district and agency roll-ups make across every plan

An agency's page finds its projects by lead agency and by supporting agency, and every roll-up
starts from the plans of one fiscal year; none of the three had an index (issue 18: 1,172 ms for
one agency's lookup on the national data set, a sequential scan of every project).

Revision ID: 0025_rollup_indexes
Revises: 0022_sector_strategies
Create Date: 2026-12-06 00:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025_rollup_indexes'
down_revision = '0024_projector_group'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_projects_lead_agency_id'), 'projects', ['lead_agency_id'])
    op.create_index(
        op.f('ix_project_supporting_agencies_agency_id'),
        'project_supporting_agencies',
        ['agency_id'],
    )
    op.create_index(op.f('ix_plans_fiscal_year'), 'plans', ['fiscal_year'])


def downgrade():
    op.drop_index(op.f('ix_plans_fiscal_year'), table_name='plans')
    op.drop_index(
        op.f('ix_project_supporting_agencies_agency_id'), table_name='project_supporting_agencies'
    )
    op.drop_index(op.f('ix_projects_lead_agency_id'), table_name='projects')
