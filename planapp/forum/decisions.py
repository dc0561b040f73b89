"""What the forum decides about one project: feasibility (with the reason when not feasible),
urgency, lead and supporting agencies, strategies and programme, a note. One change, logged with
before/after snapshots so undo restores it; the project's column follows its feasibility."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from planapp import ranking
from planapp.areas import strategies_for_tambon
from planapp.changes import Regions, StaleVersion, bump_version, project_snapshot, record_change
from planapp.extensions import db
from planapp.forum.history import describe_edit
from planapp.models import Agency, ChangeLog, Plan, Project, Strategy, User

EDIT_FIELDS = [
    "feasibility",
    "feasibility_reason",
    "urgency",
    "lead_agency_id",
    "supporting_agency_ids",
    "strategy_ids",
    "programme",
    "note",
]


@dataclass
class Decisions:
    feasibility: str
    feasibility_reason: str = ""
    urgency: str | None = None
    lead_agency_id: int | None = None
    new_lead_agency: str = ""
    supporting_agency_ids: list[int] = field(default_factory=list)
    new_supporting_agency: str = ""
    new_agency_kind: str = "government"
    strategy_ids: list[int] = field(default_factory=list)
    programme: str | None = None  # None: left as it is
    note: str = ""


@dataclass
class Saved:
    entry: ChangeLog
    moved: ranking.MoveResult | None = None


def find_or_create_agency(name: str, kind: str) -> Agency:
    """The agency of that name (spaces and letter case aside), created if it is new."""
    name = " ".join(name.split())
    agency = db.session.scalar(select(Agency).where(func.lower(Agency.name) == name.lower()))
    if agency is None:
        agency = Agency(name=name, kind=kind)
        db.session.add(agency)
        db.session.flush()
    return agency


def save_decisions(
    plan: Plan,
    project: Project,
    decisions: Decisions,
    seen_version: int | None,
    *,
    actor: User | None,
) -> Saved:
    """Apply the panel in one change, logged complete (the caller commits). `seen_version` is
    the plan version the panel was opened at: the save is refused (StaleVersion) only when
    another device changed this project's decisions since. Raises GroupLocked when feasibility
    would move the card out of a confirmed group."""
    version = bump_version(plan)
    _refuse_if_edited(project, seen_version, version)
    before = project_snapshot(project, EDIT_FIELDS)

    lead_id = decisions.lead_agency_id
    if decisions.new_lead_agency.strip():
        lead_id = find_or_create_agency(decisions.new_lead_agency, decisions.new_agency_kind).id
    supporting_ids = set(decisions.supporting_agency_ids)
    if decisions.new_supporting_agency.strip():
        supporting_ids.add(
            find_or_create_agency(decisions.new_supporting_agency, decisions.new_agency_kind).id
        )
    supporting_ids.discard(lead_id)  # the lead is not also its own supporter

    project.feasibility = decisions.feasibility
    project.feasibility_reason = (
        decisions.feasibility_reason.strip() if decisions.feasibility == "not_feasible" else ""
    )
    project.urgency = decisions.urgency or None
    project.lead_agency_id = lead_id
    project.supporting_agencies = db.session.scalars(
        select(Agency).where(Agency.id.in_(supporting_ids))
    ).all()
    # Only strategies that apply to the tambon (the panel offers no other).
    project.strategies = db.session.scalars(
        select(Strategy).where(
            Strategy.id.in_(decisions.strategy_ids), strategies_for_tambon(plan.tambon)
        )
    ).all()
    if decisions.programme is not None:
        project.programme = decisions.programme
    project.note = decisions.note.strip()
    db.session.flush()
    after = project_snapshot(project, EDIT_FIELDS)

    key = str(project.id)
    before_all, after_all = {key: before}, {key: after}
    regions = Regions(cards={project.id}, edited={project.id})
    # The column follows feasibility: not feasible goes to its column (at the end); a project
    # found feasible again goes back to "unsorted" for the forum to place.
    target = None
    if project.feasibility == "not_feasible" and project.funding_group != "not-feasible":
        target = "not-feasible"
    elif project.feasibility != "not_feasible" and project.funding_group == "not-feasible":
        target = "unsorted"
    moved, move_before, move_after = None, {}, {}
    if target is not None:
        moved, move_before, move_after = ranking.relocate(plan, project, target)
        for snapshot, merged in ((move_before, before_all), (move_after, after_all)):
            for pid, state in snapshot["projects"].items():
                merged.setdefault(pid, {}).update(state)
        regions.moved.add(project.id)
        regions.groups |= set(moved.changed_groups)
    entry = record_change(
        plan,
        "edit",
        actor=actor,
        project=project,
        summary=describe_edit(project.title, before, after),
        # A move logged as rank shifts keeps them beside the projects (ranking.restore_ranks).
        before={**move_before, "projects": before_all},
        after={**move_after, "projects": after_all},
        regions=regions,
        version=version,
    )
    return Saved(entry=entry, moved=moved)


def set_urgency(
    plan: Plan, project: Project, tier: str | None, seen_version: int | None, *, actor: User | None
) -> ChangeLog | None:
    """The urgency view's one-tap tier choice: one field, one logged change. Refused
    (StaleVersion) only when another device changed the project's decisions since the view's
    `seen_version`. Choosing the tier it has already (a double tap) changes and logs nothing."""
    if (tier or None) == project.urgency:
        return None
    version = bump_version(plan)
    _refuse_if_edited(project, seen_version, version)
    before = project_snapshot(project, EDIT_FIELDS)
    project.urgency = tier or None
    after = project_snapshot(project, EDIT_FIELDS)
    return record_change(
        plan,
        "edit",
        actor=actor,
        project=project,
        summary=describe_edit(project.title, before, after),
        before={"projects": {str(project.id): before}},
        after={"projects": {str(project.id): after}},
        regions=Regions(cards={project.id}, edited={project.id}),
        version=version,
    )


def _refuse_if_edited(project: Project, seen_version: int | None, version: int) -> None:
    db.session.refresh(project, ["edited_version"])
    if seen_version is not None and project.edited_version > seen_version:
        raise StaleVersion(version - 1)
