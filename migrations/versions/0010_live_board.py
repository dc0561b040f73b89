"""live board: per-card stamps and the regions each change touched

Several tablets move cards at once: a move is refused only when the card or its anchor was
placed again since that tablet saw it (`board_places.placed_version`), a panel save only when
another device changed the same project's decisions (`board_places.edited_version`). Each
change-log row names the regions it touched (`change_log.regions`), so every live view sends
only those, and catches up from the log by version (`ix_change_log_plan_version`).

Revision ID: 0010_live_board
Revises: 0007_board_places
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_live_board'
down_revision = '0009_sign_in_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('board_places', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('edited_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('regions', sa.JSON(none_as_null=True), nullable=True))
        batch_op.create_index('ix_change_log_plan_version', ['plan_id', 'plan_version'], unique=False)


def downgrade():
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_index('ix_change_log_plan_version')
        batch_op.drop_column('regions')

    with op.batch_alter_table('board_places', schema=None) as batch_op:
        batch_op.drop_column('edited_version')
        batch_op.drop_column('placed_version')
