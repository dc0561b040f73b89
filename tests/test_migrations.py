"""The migrations build exactly the models' schema: no drift between them."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import Integer, text

from planapp.extensions import db


def migrated_to(revision: str) -> None:
    """An empty database, migrated from nothing up to `revision`."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision=revision)


def test_migrations_match_models(app):
    migrated_to("head")
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
    assert "projects" in db.inspect(db.engine).get_table_names()


def test_upgrading_a_database_keeps_its_projects_links_and_places(app):
    """SQLite rebuilds a table to alter it (copy, DROP, rename): with foreign keys on, the DROP
    would cascade and empty the tables that refer to it (0006 rebuilds strategies, 0007
    projects). An upgrade keeps every row, and 0007 gives each project its board place."""
    migrated_to("0004_projector")
    with db.engine.begin() as connection:
        run = connection.execute
        run(text("INSERT INTO tambons (id, name, district, province) VALUES (1, 'ก', 'ข', 'ค')"))
        run(text("INSERT INTO villages (id, tambon_id, number, name) VALUES (1, 1, 1, 'บ้าน')"))
        run(text("INSERT INTO strategies (id, level, code, name) VALUES (1, 'local', '1', 'ถนน')"))
        run(
            text(
                "INSERT INTO plans (id, tambon_id, fiscal_year, version, identity,"
                " development_position, direction, potential, key_problems, grouping, show_kpi,"
                " public_token, is_public, forum_place, forum_chair, created_at) VALUES"
                " (1, 1, 2570, 0, '', '', '', '', '', 'strategy', :yes, 'token', :no, '', '',"
                " CURRENT_TIMESTAMP)"
            ),
            {"yes": True, "no": False},
        )
        for pid, group, rank in [
            (1, "1", 1),
            (2, "1", 2),
            (3, "1", None),  # merged below: no rank
        ]:
            run(
                text(
                    "INSERT INTO projects (id, plan_id, title, rationale, objective,"
                    " target_output, location, sector, programme, budget_satang, kpi,"
                    " expected_result, feasibility, feasibility_reason, funding_group, rank,"
                    " note, votes, followup_status, followup_note, created_at, updated_at)"
                    " VALUES (:id, 1, 'โครงการ', '', '', '', '', 'economy', '', 100, '', '',"
                    " 'pending', '', :group, :rank, '', 0, 'none', '', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"id": pid, "group": group, "rank": rank},
            )
            run(text("INSERT INTO project_villages VALUES (:id, 1)"), {"id": pid})
            run(text("INSERT INTO project_strategies VALUES (:id, 1)"), {"id": pid})
        run(text("UPDATE projects SET merged_into_id = 1 WHERE id = 3"))
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT project_id, plan_id, funding_group, rank FROM board_places"
                " ORDER BY project_id"
            )
        ).all()
        links = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("project_villages", "project_strategies")
        ]
        merged = connection.execute(text("SELECT merged_into_id FROM projects WHERE id = 3"))
    assert [tuple(row) for row in rows] == [(1, 1, "1", 1), (2, 1, "1", 2), (3, 1, "1", None)]
    assert links == [3, 3]
    assert merged.scalar() == 1


def rows_named_by_id() -> list:
    """Tables whose rows are named by a plain integer id of their own (not a reference)."""
    return [
        table
        for table in db.metadata.sorted_tables
        if len(table.primary_key.columns) == 1
        and isinstance(table.primary_key.columns[0].type, Integer)
        and not table.primary_key.columns[0].foreign_keys
    ]


def test_every_table_named_by_id_never_reuses_ids():
    """SQLite without AUTOINCREMENT hands the id of a deleted newest row out again (undo then
    wrote into another tambon's project, issue 13). Every such table, new ones included."""
    tables = rows_named_by_id()
    assert {"projects", "plans", "villages", "agencies", "strategies", "users", "tambons"} <= {
        table.name for table in tables
    }
    assert [t.name for t in tables if not t.dialect_options["sqlite"]["autoincrement"]] == []


@pytest.mark.sqlite_only
def test_the_migrations_give_sqlite_autoincrement_and_keep_the_highest_id(app):
    """compare_metadata cannot see AUTOINCREMENT: read the schema SQLite keeps. A database
    upgraded with rows in it continues above its highest id, even after deleting that row."""
    migrated_to("0007_board_places")
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO agencies (id, name, kind) VALUES (7, 'อบต.', 'local')")
        )
    upgrade()
    with db.engine.begin() as connection:
        schema = {
            name: sql
            for name, sql in connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            )
        }
        connection.execute(text("DELETE FROM agencies WHERE id = 7"))
        new_id = connection.execute(
            text("INSERT INTO agencies (name, kind) VALUES ('อำเภอ', 'government') RETURNING id")
        ).scalar()
    missing = [t.name for t in rows_named_by_id() if "AUTOINCREMENT" not in schema[t.name]]
    assert missing == []
    assert new_id == 8


def test_existing_strategies_become_national_and_codes_are_unique_per_area(app):
    """0026 (issue 18): strategies already there belong to the whole country, users keep their
    roles with no area; a code is unique per level within an area, not nationwide."""
    from sqlalchemy.exc import IntegrityError

    migrated_to("0025_rollup_indexes")
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO strategies (level, code, name) VALUES ('province', '1', 'ก')")
        )
        connection.execute(
            text(
                "INSERT INTO users (username, display_name, password_hash, role, active,"
                " created_at) VALUES ('somchai', '', 'x', 'facilitator', :yes,"
                " CURRENT_TIMESTAMP)"
            ),
            {"yes": True},
        )
    upgrade()
    insert = text(
        "INSERT INTO strategies (level, code, name, area_province, area_district)"
        " VALUES ('province', '1', 'ข', :province, :district)"
    )
    with db.engine.begin() as connection:
        row = connection.execute(
            text("SELECT area_province, area_district, area_agency_id FROM strategies")
        ).one()
        user = connection.execute(text("SELECT area_province, area_district FROM users")).one()
        connection.execute(insert, {"province": "มหาสารคาม", "district": ""})
        connection.execute(insert, {"province": "มหาสารคาม", "district": "กุดรัง"})
    assert tuple(row) == ("", "", None)
    assert tuple(user) == (None, None)
    for area in ({"province": "", "district": ""}, {"province": "มหาสารคาม", "district": ""}):
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(insert, area)
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(  # a district with no province
            insert.bindparams(province="", district="กุดรัง")
        )
