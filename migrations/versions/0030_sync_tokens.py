"""halls that sync: sync tokens per tambon (server), sync links per plan (laptop), project uid

A hall laptop pushes its plan to the district server and pulls it from there with a token of
its tambon (issue 18); projects carry a uid so the two copies are compared project by project.

Revision ID: 0030_sync_tokens
Revises: 0029_report_jobs
Create Date: 2026-12-06 12:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0030_sync_tokens'
down_revision = '0029_report_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sync_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tambon_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('hint', sa.String(length=16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_push_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'], name=op.f('fk_sync_tokens_created_by_id_users'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['tambon_id'], ['tambons.id'], name=op.f('fk_sync_tokens_tambon_id_tambons'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_tokens')),
        sa.UniqueConstraint('digest', name=op.f('uq_sync_tokens_digest')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_sync_tokens_tambon_id'), 'sync_tokens', ['tambon_id'], unique=False)
    op.create_table(
        'sync_links',
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('server_url', sa.String(length=300), nullable=False),
        sa.Column('token', sa.String(length=200), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=True),
        sa.Column('local_version', sa.Integer(), nullable=True),
        sa.Column('synced_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['plan_id'], ['plans.id'], name=op.f('fk_sync_links_plan_id_plans'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_sync_links')),
    )
    op.add_column('projects', sa.Column('uid', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('projects') as batch_op:
        batch_op.drop_column('uid')
    op.drop_table('sync_links')
    op.drop_index(op.f('ix_sync_tokens_tambon_id'), table_name='sync_tokens')
    op.drop_table('sync_tokens')
