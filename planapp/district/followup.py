"""Follow-up after the forum: where each project taken forward has got to in the local
administration's hands (sent, local development plan, budget ordinance, in progress, done or
dropped), which moves between those steps are possible, and how far each funding group has come.

Plain functions: the routes call them, the tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from planapp.changes import project_snapshot, record_change
from planapp.domain import FOLLOWUP, FOLLOWUP_LABELS, FUNDING_GROUPS, GROUP_SHORT_LABELS
from planapp.extensions import db
from planapp.forms import parse_thai_date
from planapp.models import ChangeLog, Plan, Project, User
from planapp.taken_forward import is_taken_forward as counts_as_taken_forward
from planapp.taken_forward import taken_forward_clause

# The road a project travels after the forum. A step may be skipped forward (the planning
# officer often learns of two steps at once); "dropped" can happen at any open step.
LADDER = ["none", "sent", "in_local_plan", "in_budget", "in_progress", "done"]
CLOSED = {"done", "dropped"}
# Statuses that mean the money was found: the budget ordinance or later.
REACHED_BUDGET = ("in_budget", "in_progress", "done")
# Group 1 is carried out by the community with its own resources: it never goes to the อปท.
NOT_FOR_GROUP_1 = {"sent", "in_local_plan", "in_budget"}
# The fields one follow-up change touches (snapshots for the change log and undo).
FOLLOWUP_FIELDS = [
    "followup_status",
    "followup_date",
    "followup_note",
    "budget_ordinance_satang",
    "budget_ordinance_year",
]
NOTE_MAX = 2000
# A budget ordinance is for the plan's own year or one of the five years after it.
YEARS_AHEAD = 5


def is_taken_forward(project: Project) -> bool:
    return counts_as_taken_forward(
        project.funding_group, project.feasibility, project.merged_into_id is not None
    )


def allowed_statuses(project: Project) -> list[str]:
    """The statuses the project may be given now (its current one included, to correct the
    date, amount or note), in ladder order. The select offers only these."""
    current = project.followup_status
    if not is_taken_forward(project):
        return [current]
    if current in CLOSED:
        return [current]
    position = LADDER.index(current)
    options = LADDER[position:] + ["dropped"]
    if current == "in_budget":
        # Cut from the ordinance (e.g. an amended ordinance): back to waiting in the local plan.
        options.insert(0, "in_local_plan")
    if project.funding_group == "1":
        options = [s for s in options if s not in NOT_FOR_GROUP_1 or s == current]
    return options


class FollowupRefused(ValueError):
    """The requested follow-up is impossible; `errors` maps a form field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class FollowupUpdate:
    """What the facilitator typed, as text; `check_update` turns it into values or refuses."""

    status: str
    day: str = ""
    note: str = ""
    amount: str = ""
    year: str = ""
    # The status the facilitator's page showed: refuse if somebody moved the project since.
    seen_status: str | None = None
    parsed: dict = field(default_factory=dict)


def parse_amount(text: str) -> int | None:
    """'1,500,000' or '1500000.50' baht -> satang; '' -> None; raises ValueError otherwise."""
    cleaned = (text or "").replace(",", "").replace(" ", "").replace("฿", "").strip()
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(cleaned) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(cleaned)
    satang = int(amount * 100)
    if satang >= 10**15:  # beyond any budget; keeps BigInteger safe
        raise ValueError(cleaned)
    return satang


def check_update(plan: Plan, project: Project, update: FollowupUpdate, today: date) -> dict:
    """The new follow-up values, or FollowupRefused with a message for each field at fault."""
    errors: dict[str, str] = {}
    status = update.status
    current = project.followup_status

    if status not in FOLLOWUP:
        raise FollowupRefused({"status": _("Choose a follow-up status.")})
    if update.seen_status is not None and update.seen_status != current:
        raise FollowupRefused(
            {
                "status": _(
                    "Somebody changed this project's follow-up to “%(status)s” meanwhile. "
                    "Check it and try again.",
                    status=FOLLOWUP_LABELS[current],
                )
            }
        )
    if not is_taken_forward(project) and status != current:
        if project.merged_into_id is not None:
            message = _("This project was merged into another one; follow that project up.")
        else:
            column = (
                "not-feasible" if project.feasibility == "not_feasible" else project.funding_group
            )
            message = _(
                "The forum did not take this project forward (it is in “%(column)s”), "
                "so it has no follow-up.",
                column=GROUP_SHORT_LABELS.get(column, column),
            )
        raise FollowupRefused({"status": message})
    if status not in allowed_statuses(project):
        if current in CLOSED:
            message = _(
                "This project's follow-up is closed (“%(status)s”); undo that change if it was "
                "a mistake.",
                status=FOLLOWUP_LABELS[current],
            )
        elif project.funding_group == "1" and status in NOT_FOR_GROUP_1:
            message = _(
                "Group 1 projects are carried out by the community itself: they are not sent "
                "to the local administration or into its budget."
            )
        else:
            message = _(
                "A project cannot go back from “%(current)s” to “%(status)s”.",
                current=FOLLOWUP_LABELS[current],
                status=FOLLOWUP_LABELS[status],
            )
        raise FollowupRefused({"status": message})

    # The date of the step: today unless given; never in the future, never before the forum.
    day = today
    if update.day.strip():
        try:
            day = parse_thai_date(update.day)
        except ValueError:
            errors["day"] = _("Type the date as day/month/year (BE), e.g. 20/11/2569.")
    if "day" not in errors:
        if day > today:
            errors["day"] = _("The date cannot be in the future.")
        elif plan.forum_date and day < plan.forum_date:
            errors["day"] = _(
                "The date cannot be before the forum (%(date)s).", date=_be_date(plan.forum_date)
            )

    note = (update.note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _("Keep the note under %(max)d characters.", max=NOTE_MAX)
    elif status == "dropped" and not note:
        errors["note"] = _("Give the reason the project was dropped.")

    amount = year = None
    try:
        amount = parse_amount(update.amount)
    except ValueError:
        errors["amount"] = _("Enter the amount in baht, for example 1,500,000.")
    if update.year.strip():
        try:
            year = int(update.year.strip())
        except ValueError:
            errors["year"] = _("Enter the fiscal year as a Buddhist Era year, e.g. %(year)d.",
                               year=plan.fiscal_year + 1)  # fmt: skip

    has_budget = status in REACHED_BUDGET
    if status == "in_budget":
        if amount is None and "amount" not in errors:
            errors["amount"] = _("Enter the amount in the budget ordinance.")
        elif amount == 0:
            errors["amount"] = _("The amount in the budget ordinance must be more than zero.")
        if year is None and "year" not in errors:
            errors["year"] = _("Enter the fiscal year of the budget ordinance.")
    elif not has_budget:
        if amount is not None and "amount" not in errors:
            errors["amount"] = _(
                "Only a project in the budget ordinance (or later) has a budget amount; "
                "leave this empty."
            )
        if year is not None and "year" not in errors:
            errors["year"] = _(
                "Only a project in the budget ordinance (or later) has a budget year; "
                "leave this empty."
            )
    first, last = plan.fiscal_year - 1, plan.fiscal_year + YEARS_AHEAD
    if year is not None and "year" not in errors and not first <= year <= last:
        errors["year"] = _(
            "The budget year must be a Buddhist Era year from %(first)d to %(last)d.",
            first=first,
            last=last,
        )
    if errors:
        raise FollowupRefused(errors)

    if has_budget:
        # Later steps keep the ordinance figures unless corrected.
        amount = amount if amount is not None else project.budget_ordinance_satang
        year = year if year is not None else project.budget_ordinance_year
    return {
        "followup_status": status,
        "followup_date": day,
        "followup_note": note,
        "budget_ordinance_satang": amount,
        "budget_ordinance_year": year,
    }


def _be_date(day: date) -> str:
    from planapp.formatting import be_date

    return be_date(day)


def apply_update(
    plan: Plan, project: Project, update: FollowupUpdate, today: date, *, actor: User | None
) -> ChangeLog | None:
    """Check and save one follow-up change through the change log. None when nothing changed.
    Raises FollowupRefused (nothing is changed then); the caller commits."""
    values = check_update(plan, project, update, today)
    if all(getattr(project, name) == value for name, value in values.items()):
        return None
    before = project_snapshot(project, FOLLOWUP_FIELDS)
    for name, value in values.items():
        setattr(project, name, value)
    after = project_snapshot(project, FOLLOWUP_FIELDS)
    return record_change(  # worded when shown, from the snapshots (planapp/forum/history.py)
        plan,
        "followup",
        actor=actor,
        project=project,
        before={"projects": {str(project.id): before}},
        after={"projects": {str(project.id): after}},
    )


# --- how far each group has come ------------------------------------------------------------


@dataclass
class GroupProgress:
    group: str
    total: int = 0
    requested_satang: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    reached_budget: int = 0
    ordinance_satang: int = 0

    @property
    def done(self) -> int:
        return self.by_status.get("done", 0)

    @property
    def dropped(self) -> int:
        return self.by_status.get("dropped", 0)

    @property
    def not_yet_sent(self) -> int:
        return self.by_status.get("none", 0)

    @property
    def milestone(self) -> int:
        """The headline count: in the budget ordinance (groups 2-3) or done (group 1)."""
        return self.done if self.group == "1" else self.reached_budget

    @property
    def percent(self) -> int:
        return round(100 * self.milestone / self.total) if self.total else 0


def progress_rows(plan_ids_condition):
    """SQL rows (plan_id, group, status, count, requested, ordinance) under a condition on
    Project.plan_id: one query serves a plan page and a whole district."""
    return db.session.execute(
        select(
            Project.plan_id,
            Project.funding_group,
            Project.followup_status,
            func.count(),
            func.coalesce(func.sum(Project.budget_satang), 0),
            func.coalesce(
                func.sum(
                    case(
                        (
                            Project.followup_status.in_(REACHED_BUDGET),
                            func.coalesce(Project.budget_ordinance_satang, 0),
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
        )
        .where(plan_ids_condition, taken_forward_clause())
        .group_by(Project.plan_id, Project.funding_group, Project.followup_status)
    ).all()


def add_row(progress: GroupProgress, status: str, count: int, requested: int, ordinance: int):
    progress.total += count
    progress.requested_satang += requested
    progress.by_status[status] = progress.by_status.get(status, 0) + count
    if status in REACHED_BUDGET:
        progress.reached_budget += count
        progress.ordinance_satang += ordinance


def group_progress(plan: Plan) -> dict[str, GroupProgress]:
    """Group 1, 2, 3 -> how far its projects taken forward have come (aggregated in SQL)."""
    result = {group: GroupProgress(group) for group in FUNDING_GROUPS}
    for _plan_id, group, status, count, requested, ordinance in progress_rows(
        Project.plan_id == plan.id
    ):
        add_row(result[group], status, count, requested, ordinance)
    return result


def followup_projects(plan: Plan) -> dict[str, list[Project]]:
    """The projects taken forward, per group, in the forum's priority order."""
    projects = db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan.id, taken_forward_clause())
        .order_by(Project.funding_group, Project.rank, Project.id)
    ).all()
    grouped: dict[str, list[Project]] = {group: [] for group in FUNDING_GROUPS}
    for project in projects:
        grouped[project.funding_group].append(project)
    return grouped


def money_pair(part_satang: int, whole_satang: int) -> tuple[str, str, bool]:
    """Two amounts in one unit for a sentence like '3.2 of 5.1 million baht': millions with one
    decimal from a million baht up, whole baht below. Returns (part, whole, in_millions)."""
    from planapp.formatting import baht

    if whole_satang >= 100_000_000 or part_satang >= 100_000_000:
        return (
            _millions(part_satang),
            _millions(whole_satang),
            True,
        )
    return baht(part_satang), baht(whole_satang), False


def _millions(satang: int) -> str:
    value = Decimal(satang) / Decimal(100_000_000)
    text = f"{value:,.2f}" if value < 10 else f"{value:,.1f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
