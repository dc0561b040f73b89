"""Who sees which part of the country: the one place that scopes the roll-ups and the plans an
officer reads (issue 18, scoped roles), and the strategies that apply to a tambon.

The national administrator sees everything; a provincial officer their province; a district
officer (พัฒนากรอำเภอ) their district. A facilitator has no roll-up: their tambons' plans only.
Areas are named as Tambon names them (province, district)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, false, or_, select, true

from planapp.extensions import db
from planapp.models import (
    Agency,
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


def nearest_area_first():
    """ORDER BY terms: among strategies that apply to a tambon, its อปท.'s first, then its
    district's, its province's, the national ones (a plan file names a strategy by level and
    code; the nearest one is the tambon's own)."""
    return (
        Strategy.area_agency_id.is_(None),
        Strategy.area_district == "",
        Strategy.area_province == "",
        Strategy.id,
    )


def strategy_area_label(strategy: Strategy) -> str:
    """The area a strategy belongs to, in words (the strategies pages)."""
    if strategy.area_agency_id is not None:
        return strategy.area_agency.name
    if strategy.area_district:
        return _(
            "District %(district)s, %(province)s",
            district=strategy.area_district,
            province=strategy.area_province,
        )
    if strategy.area_province:
        return _("Province %(province)s", province=strategy.area_province)
    return _("National")


# The areas a strategy may belong to, as the strategies page offers them.
STRATEGY_AREA_KINDS = ["national", "province", "district", "local"]


class AreaRefused(ValueError):
    """The strategy's area cannot be read; `field` says next to which form field."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def known_areas() -> tuple[list[str], list[str]]:
    """The provinces and districts of the tambons entered: offered while an administrator
    types an officer's or a strategy's area (which may also be one with no tambon yet)."""
    rows = db.session.execute(select(Tambon.province, Tambon.district).distinct()).all()
    return sorted({p for p, _d in rows}), sorted({d for _p, d in rows})


def strategy_area(
    kind: str, province: str | None, district: str | None, agency_id: int | None
) -> tuple[str, str, int | None]:
    """(area_province, area_district, area_agency_id) of a strategy from the page's choice;
    what the chosen kind does not use is dropped. Raises AreaRefused next to the field."""

    def name(text, field):
        value = " ".join((text or "").split())
        if len(value) > 200 or not value.isprintable():
            raise AreaRefused(field, _l("Type the name again: at most 200 visible characters."))
        return value

    if kind == "national":
        return "", "", None
    if kind == "local":
        agency = db.session.get(Agency, agency_id) if agency_id else None
        if agency is None or agency.kind != "local":
            raise AreaRefused("area_agency_id", _l("Choose the local administration."))
        return "", "", agency.id
    if kind not in ("province", "district"):
        raise AreaRefused("area_kind", _l("Choose the area of the strategy."))
    province_name = name(province, "area_province")
    if not province_name:
        raise AreaRefused("area_province", _l("Type or choose the province."))
    if kind == "province":
        return province_name, "", None
    district_name = name(district, "area_district")
    if not district_name:
        raise AreaRefused("area_district", _l("Type or choose the district."))
    return province_name, district_name, None


def strategy_area_kind(strategy: Strategy) -> str:
    if strategy.area_agency_id is not None:
        return "local"
    if strategy.area_district:
        return "district"
    return "province" if strategy.area_province else "national"
