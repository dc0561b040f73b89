"""change details: what a change did, as data, worded in the reader's language when shown

The change log kept a summary worded at write time, in the language of whoever made the change:
an English reader saw Thai lines. `change_log.details` holds the values a change's words need
(a group, a count, a village's id, an amount over a ceiling); the history and the minutes word
them when shown. Older rows keep their stored summary.

Revision ID: 0021_change_details
Revises: 0020_proposed_by
Create Date: 2026-12-05 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_change_details'
down_revision = '0020_proposed_by'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(none_as_null=True), nullable=True))


def downgrade():
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_column('details')
