"""never reuse ids: AUTOINCREMENT on SQLite for every table whose rows are named by id

Without it SQLite gives a new row the highest id plus one, so the id of the newest row comes
back after that row is deleted, in any tambon; undo's snapshots then named the other tambon's
new project. AUTOINCREMENT keeps the highest id ever used (sqlite_sequence). The rebuild copies
every row, which sets the sequence to the highest id present. PostgreSQL's sequences already
never go back: nothing to do there.

Revision ID: 0008_never_reuse_ids
Revises: 0007_board_places
Create Date: 2026-12-02 09:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_never_reuse_ids'
down_revision = '0007_board_places'
branch_labels = None
depends_on = None

# Referenced tables before the tables that refer to them (the order does not matter with the
# foreign keys off, as migrations/env.py has them, but reads naturally).
TABLES = [
    'agencies', 'strategies', 'users', 'tambons', 'villages', 'plans', 'projects', 'change_log',
]


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
        ):
            pass


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
