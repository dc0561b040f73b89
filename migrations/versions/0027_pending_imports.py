"""pending imports: an uploaded Excel file waits for its confirmation in the database

With several app servers behind one address, the preview and the confirmation of an import may
reach another server than the upload: the file can no longer wait in one server's instance
folder (issue 18).

Revision ID: 0027_pending_imports
Revises: 0026_scoped_roles
Create Date: 2026-12-06 03:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0027_pending_imports'
down_revision = '0026_scoped_roles'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_imports',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['plan_id'], ['plans.id'], name=op.f('fk_pending_imports_plan_id_plans'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_pending_imports')),
    )
    op.create_index(
        op.f('ix_pending_imports_created_at'), 'pending_imports', ['created_at'], unique=False
    )
    op.create_index(
        op.f('ix_pending_imports_plan_id'), 'pending_imports', ['plan_id'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_pending_imports_plan_id'), table_name='pending_imports')
    op.drop_index(op.f('ix_pending_imports_created_at'), table_name='pending_imports')
    op.drop_table('pending_imports')
