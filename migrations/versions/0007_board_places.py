"""board places: a project's group and rank move to a narrow table of their own

A move shifts the rank of every card below it; in `projects` each shifted row was a rewrite of
the whole wide row (titles, reasons, notes) and its pages. `board_places` holds just the place.

Revision ID: 0007_board_places
Revises: 0006_local_plan_preamble
Create Date: 2026-11-30 02:55:00.088482

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_board_places'
down_revision = '0006_local_plan_preamble'
branch_labels = None
depends_on = None


def upgrade():
    # The place refers to (project, plan): the pair must be a key of projects first.
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_projects_id_plan_id'), ['id', 'plan_id'])

    op.create_table('board_places',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('funding_group', sa.String(length=20), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.CheckConstraint("funding_group IN ('unsorted', '1', '2', '3', 'not-feasible')", name=op.f('ck_board_places_funding_group')),
    sa.CheckConstraint('rank IS NULL OR rank > 0', name=op.f('ck_board_places_rank_positive')),
    sa.ForeignKeyConstraint(['project_id', 'plan_id'], ['projects.id', 'projects.plan_id'], name=op.f('fk_board_places_project_id_projects'), onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_board_places')),
    sa.UniqueConstraint('plan_id', 'funding_group', 'rank', name=op.f('uq_board_places_plan_id_funding_group_rank'))
    )
    op.execute(
        "INSERT INTO board_places (project_id, plan_id, funding_group, rank) "
        "SELECT id, plan_id, funding_group, rank FROM projects"
    )

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_projects_plan_id_funding_group_rank'), type_='unique')
        batch_op.drop_constraint(batch_op.f('ck_projects_funding_group'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_projects_rank_positive'), type_='check')
        batch_op.drop_column('rank')
        batch_op.drop_column('funding_group')


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funding_group', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('rank', sa.Integer(), nullable=True))

    op.execute(
        "UPDATE projects SET "
        "funding_group = (SELECT funding_group FROM board_places WHERE project_id = projects.id), "
        "rank = (SELECT rank FROM board_places WHERE project_id = projects.id)"
    )
    op.drop_table('board_places')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.alter_column('funding_group', existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_projects_id_plan_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_projects_plan_id_funding_group_rank'), ['plan_id', 'funding_group', 'rank'])
        batch_op.create_check_constraint(batch_op.f('ck_projects_funding_group'), "funding_group IN ('unsorted', '1', '2', '3', 'not-feasible')")
        batch_op.create_check_constraint(batch_op.f('ck_projects_rank_positive'), 'rank IS NULL OR rank > 0')
