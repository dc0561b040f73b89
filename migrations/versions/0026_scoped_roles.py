"""scoped roles: district and provincial officers with their area; strategies belong to an area

An officer reads the roll-ups of one district (พัฒนากรอำเภอ) or one province (issue 18); the
area is stored on the user, and a CHECK keeps role and area in agreement. A strategy belongs to
the country, a province, a district or an อปท. (its agency); its code is unique per level within
that area. Existing strategies become national.

Revision ID: 0026_scoped_roles
Revises: 0025_rollup_indexes
Create Date: 2026-12-06 03:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0026_scoped_roles"
down_revision = "0025_rollup_indexes"
branch_labels = None
depends_on = None

ROLE_AREA = (
    "(role = 'district_officer' AND area_province IS NOT NULL AND area_district IS NOT NULL)"
    " OR (role = 'provincial_officer' AND area_province IS NOT NULL AND area_district IS NULL)"
    " OR (role IN ('admin', 'facilitator') AND area_province IS NULL AND area_district IS NULL)"
)
STRATEGY_AREA = (
    "(area_district = '' OR area_province <> '')"
    " AND (area_agency_id IS NULL OR (area_province = '' AND area_district = ''))"
)


def upgrade():
    # Recreated on SQLite: keep its AUTOINCREMENT (ids never reused, 0008).
    with op.batch_alter_table(
        "users", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("area_province", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("area_district", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_users_role"),
            "role IN ('admin', 'facilitator', 'district_officer', 'provincial_officer')",
        )
        batch_op.create_check_constraint(batch_op.f("ck_users_role_area"), ROLE_AREA)

    with op.batch_alter_table(
        "strategies", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("area_province", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("area_district", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("area_agency_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_strategies_area_agency_id_agencies"),
            "agencies",
            ["area_agency_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint(batch_op.f("uq_strategies_level_code"), type_="unique")
        batch_op.create_check_constraint(batch_op.f("ck_strategies_area"), STRATEGY_AREA)
        batch_op.create_index(
            "uq_strategies_level_code_place",
            ["level", "code", "area_province", "area_district"],
            unique=True,
            sqlite_where=sa.text("area_agency_id IS NULL"),
            postgresql_where=sa.text("area_agency_id IS NULL"),
        )
        batch_op.create_index(
            "uq_strategies_level_code_agency",
            ["level", "code", "area_agency_id"],
            unique=True,
            sqlite_where=sa.text("area_agency_id IS NOT NULL"),
            postgresql_where=sa.text("area_agency_id IS NOT NULL"),
        )


def downgrade():
    # Back to one strategy per (level, code) nationwide: the areas' own ones are dropped.
    op.execute("DELETE FROM strategies WHERE area_province <> '' OR area_agency_id IS NOT NULL")
    with op.batch_alter_table(
        "strategies", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("uq_strategies_level_code_agency")
        batch_op.drop_index("uq_strategies_level_code_place")
        batch_op.drop_constraint(batch_op.f("ck_strategies_area"), type_="check")
        batch_op.create_unique_constraint(batch_op.f("uq_strategies_level_code"), ["level", "code"])
        batch_op.drop_constraint(
            batch_op.f("fk_strategies_area_agency_id_agencies"), type_="foreignkey"
        )
        batch_op.drop_column("area_agency_id")
        batch_op.drop_column("area_district")
        batch_op.drop_column("area_province")

    op.execute("DELETE FROM users WHERE role IN ('district_officer', 'provincial_officer')")
    with op.batch_alter_table(
        "users", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_role_area"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_users_role"), "role IN ('admin', 'facilitator')"
        )
        batch_op.drop_column("area_district")
        batch_op.drop_column("area_province")
