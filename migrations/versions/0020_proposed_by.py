"""a project's proposing village: whose own list its village rank orders

Revision ID: 0020_proposed_by
Revises: 0007_board_places
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_proposed_by'
down_revision = '0010_live_board'
branch_labels = None
depends_on = None


def upgrade():
    # The rebuild keeps AUTOINCREMENT (0008): ids are never handed out again.
    with op.batch_alter_table(
        'projects', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.add_column(sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_projects_proposed_by_id_villages'), 'villages', ['proposed_by_id'], ['id'], ondelete='SET NULL')

    # Existing projects: a project of one village is that village's. A joint project's rank was
    # its proposing village's: the village whose own list does not hold that rank already
    # (else the lowest-numbered one).
    connection = op.get_bind()
    links = connection.execute(sa.text(
        "SELECT p.id, p.plan_id, p.village_rank, v.id, v.number FROM projects p "
        "JOIN project_villages pv ON pv.project_id = p.id "
        "JOIN villages v ON v.id = pv.village_id ORDER BY p.id, v.number"
    )).all()
    villages_of, taken = {}, set()
    for project_id, plan_id, rank, village_id, _number in links:
        villages_of.setdefault(project_id, (plan_id, rank, []))[2].append(village_id)
    for project_id, (plan_id, rank, villages) in villages_of.items():
        if len(villages) == 1:
            taken.add((plan_id, villages[0], rank))
    for project_id, (plan_id, rank, villages) in villages_of.items():
        chosen = next((v for v in villages if (plan_id, v, rank) not in taken), villages[0])
        connection.execute(
            sa.text("UPDATE projects SET proposed_by_id = :village WHERE id = :project"),
            {"village": chosen, "project": project_id},
        )


def downgrade():
    # The rebuild keeps AUTOINCREMENT (0008): ids are never handed out again.
    with op.batch_alter_table(
        'projects', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_projects_proposed_by_id_villages'), type_='foreignkey')
        batch_op.drop_column('proposed_by_id')
