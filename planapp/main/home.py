"""The home page's list of tambons: one page of them at a time (a national server holds 7,255),
narrowed by a search, each with its village count and plans read for the whole page in two
statements, never two per tambon."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from planapp import areas
from planapp.extensions import db
from planapp.models import Tambon, User, Village

TAMBONS_PER_PAGE = 50
LONGEST_SEARCH = 100


@dataclass
class TambonEntry:
    tambon: Tambon
    villages: int  # how many villages it has


@dataclass
class HomeList:
    entries: list[TambonEntry]
    search: str
    page: int
    pages: int
    total: int  # tambons that match, on every page


def home_tambons(user: User | None, search: str = "", page: int = 1) -> HomeList:
    """The tambons the user may see in lists (areas.tambon_visible) whose name, district or
    province contains `search`, by province, district and name: page `page` (kept in range)."""
    search = search.strip()[:LONGEST_SEARCH]
    listed = select(Tambon).where(areas.tambon_visible(user))
    if search:
        listed = listed.where(
            or_(
                Tambon.name.icontains(search, autoescape=True),
                Tambon.district.icontains(search, autoescape=True),
                Tambon.province.icontains(search, autoescape=True),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(listed.subquery()))
    pages = max(1, -(-total // TAMBONS_PER_PAGE))
    page = min(max(page, 1), pages)
    tambons = db.session.scalars(
        listed.options(selectinload(Tambon.plans))
        .order_by(Tambon.province, Tambon.district, Tambon.name, Tambon.id)
        .limit(TAMBONS_PER_PAGE)
        .offset((page - 1) * TAMBONS_PER_PAGE)
    ).all()
    counts = dict(
        db.session.execute(
            select(Village.tambon_id, func.count())
            .where(Village.tambon_id.in_([tambon.id for tambon in tambons]))
            .group_by(Village.tambon_id)
        ).all()
    )
    entries = [TambonEntry(tambon, counts.get(tambon.id, 0)) for tambon in tambons]
    return HomeList(entries, search, page, pages, total)
