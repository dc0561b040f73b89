"""report jobs: big workbooks built by the jobs worker, off the request path (issue 18)

An agency's workbook of tens of thousands of rows took seconds of the app server's worker, and
every forum request of that worker waited. The jobs worker (`flask jobs-worker`) builds it from
this table (the queue; FOR UPDATE SKIP LOCKED on PostgreSQL) and keeps the file here until the
user who asked downloads it.

Revision ID: 0029_report_jobs
Revises: 0028_plan_summaries
Create Date: 2026-12-06 12:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0029_report_jobs'
down_revision = '0028_plan_summaries'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('fiscal_year', sa.Integer(), nullable=False),
        sa.Column('province', sa.String(length=200), nullable=True),
        sa.Column('district', sa.String(length=200), nullable=True),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=40), nullable=True),
        sa.Column('file_name', sa.String(length=300), nullable=True),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f('ck_report_jobs_status'),
        ),
        sa.ForeignKeyConstraint(
            ['agency_id'], ['agencies.id'], name=op.f('fk_report_jobs_agency_id_agencies'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_report_jobs_user_id_users'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_jobs')),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f('ix_report_jobs_created_at'), 'report_jobs', ['created_at'], unique=False
    )
    op.create_index('ix_report_jobs_status_id', 'report_jobs', ['status', 'id'], unique=False)
    op.create_index(op.f('ix_report_jobs_user_id'), 'report_jobs', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_report_jobs_user_id'), table_name='report_jobs')
    op.drop_index('ix_report_jobs_status_id', table_name='report_jobs')
    op.drop_index(op.f('ix_report_jobs_created_at'), table_name='report_jobs')
    op.drop_table('report_jobs')
