"""Who sees which part of the country: the one place that scopes the roll-ups and the plans an
officer reads (issue 18, scoped roles), and the strategies that apply to a tambon.

The national administrator sees everything; a provincial officer their province; a district
officer (พัฒนากรอำเภอ) their district. A facilitator has no roll-up: their tambons' plans only.
Areas are named as Tambon names them (province, district)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, false, or_, select, true

from planapp.models import (
    Plan,
    Project,
    Strategy,
    Tambon,
    User,
    project_supporting_agencies,
)


class OutsideArea(Exception):
    """The user asked for a part of the country that is not theirs (the route answers 403)."""


@dataclass(frozen=True)
class Area:
    """A part of the country: all of it (no province), a province, or a district of one."""

    province: str | None = None
    district: str | None = None

    def tambon_clause(self):
        """A condition on Tambon: the tambons of the area."""
        condition = true()
        if self.province:
            condition &= Tambon.province == self.province
        if self.district:
            condition &= Tambon.district == self.district
        return condition


def area_of(user: User | None) -> Area | None:
    """What the user may read of the roll-ups: None for nobody (a visitor, a facilitator, a
    deactivated account), the whole country for the administrator, an officer's own area."""
    if user is None or not user.active:
        return None
    if user.is_admin:
        return Area()
    if user.role == "provincial_officer":
        return Area(user.area_province)
    if user.role == "district_officer":
        return Area(user.area_province, user.area_district)
    return None


def reads_rollups(user: User | None) -> bool:
    return area_of(user) is not None


def scoped_filter(user: User, province: str | None, district: str | None) -> Area:
    """The roll-up filter a page asked for (`?province=&district=`), within the user's area.

    An officer's page without a filter (or with only part of it) opens at their own area: the
    filter is narrowed, never widened. A filter that names another area is refused
    (OutsideArea): a URL that names another province is a mistake or a probe, and an empty page
    would pass for "no plans there"."""
    area = area_of(user)
    if area is None:
        raise OutsideArea()
    province, district = (province or "").strip() or None, (district or "").strip() or None
    if area.province:
        if province and province != area.province:
            raise OutsideArea()
        province = area.province
    if area.district:
        if district and district != area.district:
            raise OutsideArea()
        district = area.district
    return Area(province, district)


def tambon_visible(user: User | None):
    """A condition on Tambon: the tambons whose names and plans the user may read in lists
    (the home page, the roll-ups): an officer's area; everything for anyone else (the home page
    lists the tambons to everyone, as before)."""
    area = area_of(user)
    if area is None or user is None or not user.is_officer:
        return true()
    return area.tambon_clause()


def reads_plan_clause(user: User):
    """A condition on Plan (correlated): an officer may read the plans of their area's tambons.
    Never a change: plan_for_editing does not use it."""
    area = area_of(user)
    if area is None or not user.is_officer:
        return false()
    return exists().where(Tambon.id == Plan.tambon_id, area.tambon_clause()).correlate(Plan)


def agencies_in_area(area: Area):
    """Ids of the agencies that act in the area, as a subquery: they lead or support a project
    of one of its plans (any year), or are the อปท. of one of its tambons. An officer's agency
    list and pages are these; another area's อปท. (named after its tambon) never shows."""
    plans = select(Plan.id).join(Tambon, Tambon.id == Plan.tambon_id).where(area.tambon_clause())
    projects = select(Project.id).where(Project.plan_id.in_(plans))
    return (
        select(Project.lead_agency_id)
        .where(Project.plan_id.in_(plans), Project.lead_agency_id.is_not(None))
        .union(
            select(project_supporting_agencies.c.agency_id).where(
                project_supporting_agencies.c.project_id.in_(projects)
            ),
            select(Tambon.local_admin_agency_id).where(
                area.tambon_clause(), Tambon.local_admin_agency_id.is_not(None)
            ),
        )
    )


# --- strategies of an area --------------------------------------------------------------------


def strategies_of_level(province: str | None = None, district: str | None = None):
    """A condition on Strategy: the strategies a roll-up of this level speaks of: the national
    ones, the province's, and the district's (an อปท.'s are the tambon's own business)."""
    condition = (Strategy.area_province == "") & Strategy.area_agency_id.is_(None)
    if province:
        place = (Strategy.area_province == province) & (
            (Strategy.area_district == "")
            | ((Strategy.area_district == district) if district else false())
        )
        condition = or_(condition, place & Strategy.area_agency_id.is_(None))
    return condition


def strategies_for_tambon(tambon: Tambon):
    """A condition on Strategy: the strategies a tambon's plan may align its projects with:
    national, its province's, its district's, and its own อปท.'s."""
    condition = strategies_of_level(tambon.province, tambon.district)
    if tambon.local_admin_agency_id is not None:
        condition = or_(condition, Strategy.area_agency_id == tambon.local_admin_agency_id)
    return condition
