"""Each plan's roll-up figures, kept current in the transaction of every change (issue 18).

The country and province pages add up these per-plan figures instead of every project of the
year (planapp/district/dashboard.py, `level_figures`). `record_change` names the plan it changed
(`changes.summary_due`); before the transaction commits, the plan's figures are counted again
with the same definitions the pages use live (`dashboard.figure_rows`) and written for the
plan's new version. A plan changed some other way keeps a summary of an older version, which the
pages do not use: they count that plan from its projects. `flask --app app rollups refresh`
(and bench/national.py after its bulk load) writes the summaries of every plan."""

from __future__ import annotations

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from planapp.changes import SUMMARIES_DUE
from planapp.district.dashboard import ALL_FIGURES, figure_rows
from planapp.extensions import db
from planapp.models import (
    Plan,
    Project,
    plan_summaries,
    plan_summary_figures,
    project_strategies,
)

# Plans written in one go by `refresh_all` (the figures' queries take their ids as a list).
CHUNK = 500


def refresh(versions: dict[int, int]) -> None:
    """Count again the figures of the plans {plan id: version} and keep them as of that
    version (the caller's transaction; the plans' write locks are held by their changes)."""
    if not versions:
        return
    ids = sorted(versions)
    figures: dict[tuple, list[int]] = {}
    for plan_id, figure, key, count, satang, ordinance in figure_rows(
        Project.plan_id, Project.plan_id.in_(ids), ALL_FIGURES
    ):
        cell = figures.setdefault((plan_id, figure, str(key)), [0, 0, 0])
        cell[0] += count
        cell[1] += satang
        cell[2] += ordinance
    db.session.execute(delete(plan_summary_figures).where(plan_summary_figures.c.plan_id.in_(ids)))
    db.session.execute(delete(plan_summaries).where(plan_summaries.c.plan_id.in_(ids)))
    db.session.execute(
        insert(plan_summaries), [{"plan_id": i, "version": versions[i]} for i in ids]
    )
    if figures:
        db.session.execute(
            insert(plan_summary_figures),
            [
                {
                    "plan_id": plan_id,
                    "figure": figure,
                    "key": key,
                    "count": count,
                    "satang": satang,
                    "ordinance_satang": ordinance,
                }
                for (plan_id, figure, key), (count, satang, ordinance) in figures.items()
            ],
        )


def refresh_all(fiscal_year: int | None = None) -> int:
    """Write the summary of every plan (of the year), CHUNK plans a statement; commits each
    chunk. Returns the number of plans."""
    query = select(Plan.id, Plan.version).order_by(Plan.id)
    if fiscal_year is not None:
        query = query.where(Plan.fiscal_year == fiscal_year)
    plans = db.session.execute(query).all()
    for start in range(0, len(plans), CHUNK):
        refresh(dict(plans[start : start + CHUNK]))
        db.session.commit()
    return len(plans)


def forget_strategies(strategy_ids: list[int]) -> None:
    """The strategies changed level: the summaries of the plans serving them no longer say
    which projects serve no province or district strategy. Those plans are counted from their
    projects until their next change (or `refresh_all`)."""
    serving = (
        select(Project.plan_id)
        .join(project_strategies, project_strategies.c.project_id == Project.id)
        .where(project_strategies.c.strategy_id.in_(strategy_ids))
    )
    db.session.execute(delete(plan_summaries).where(plan_summaries.c.plan_id.in_(serving)))


@event.listens_for(Session, "before_commit")
def _refresh_due(session) -> None:
    due = session.info.pop(SUMMARIES_DUE, None)
    if due:
        refresh(due)


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop(SUMMARIES_DUE, None)
