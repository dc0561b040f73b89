"""projector group: a screen of one funding group, and which group it shows

The projector's "group" mode shows one funding group (1, 2 or 3) across the wall, in rank order,
so the hall sees a whole group at once; `plans.projector_group` says which one.

Revision ID: 0024_projector_group
Revises: 0022_sector_strategies
Create Date: 2026-12-06 00:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_projector_group'
down_revision = '0023_ballots'
branch_labels = None
depends_on = None

MODES_BEFORE = "projector_mode IN ('village', 'overview', 'board', 'urgency', 'summary', 'outcome')"
MODES_AFTER = (
    "projector_mode IN ('village', 'overview', 'board', 'group', 'urgency', 'summary', 'outcome')"
)


def upgrade():
    # SQLite rebuilds the table: keep its AUTOINCREMENT (ids never reused, 0008).
    with op.batch_alter_table(
        'plans', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.add_column(sa.Column('projector_group', sa.String(length=20), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_plans_projector_mode'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_plans_projector_mode'), MODES_AFTER)
        batch_op.create_check_constraint(
            batch_op.f('ck_plans_projector_group'), "projector_group IN ('1', '2', '3')"
        )


def downgrade():
    op.execute("UPDATE plans SET projector_mode = 'board' WHERE projector_mode = 'group'")
    with op.batch_alter_table(
        'plans', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_plans_projector_group'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_plans_projector_mode'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_plans_projector_mode'), MODES_BEFORE)
        batch_op.drop_column('projector_group')
