"""The domain words of the design brief (section 3) as tables, with their constraints.

Constraints live in the database, not only in forms: budgets are never negative, ranks are unique
inside a group, a village number is unique in its tambon.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from planapp.domain import FUNDING_GROUPS, GROUPS, OFFICER_ROLES, PROJECTOR_MODES, ROLES, SECTORS
from planapp.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# Ids are never handed out twice. Without AUTOINCREMENT, SQLite gives a new row the highest id
# plus one, so deleting the newest row frees its id for the next insert, in any tambon; the
# change log's snapshots (undo) and links name rows by id. PostgreSQL sequences never go back.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


# --- association tables -------------------------------------------------------------------

project_villages = Table(
    "project_villages",
    db.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)
project_supporting_agencies = Table(
    "project_supporting_agencies",
    db.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    # Indexed on its own: the key starts with project_id, and an agency's page looks up by agency.
    Column(
        "agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)
project_strategies = Table(
    "project_strategies",
    db.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("strategy_id", ForeignKey("strategies.id", ondelete="CASCADE"), primary_key=True),
)
user_tambons = Table(
    "user_tambons",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("tambon_id", ForeignKey("tambons.id", ondelete="CASCADE"), primary_key=True),
)


# --- people -------------------------------------------------------------------------------


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        # An officer's area is their role's own: a district officer one district (of a
        # province), a provincial officer one province; the other roles have none.
        CheckConstraint(
            "(role = 'district_officer' AND area_province IS NOT NULL"
            " AND area_district IS NOT NULL)"
            " OR (role = 'provincial_officer' AND area_province IS NOT NULL"
            " AND area_district IS NULL)"
            " OR (role IN ('admin', 'facilitator') AND area_province IS NULL"
            " AND area_district IS NULL)",
            name="role_area",
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="facilitator")
    # An officer's area, named as Tambon names it (planapp/areas.py reads it).
    area_province: Mapped[str | None] = mapped_column(String(200))
    area_district: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    tambons: Mapped[list[Tambon]] = relationship(secondary=user_tambons, back_populates="users")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_officer(self) -> bool:
        """A district or provincial officer: reads the roll-ups of their area, edits nothing."""
        return self.role in OFFICER_ROLES

    def can_edit_tambon(self, tambon: Tambon) -> bool:
        return self.active and (self.is_admin or tambon in self.tambons)

    def can_edit_plan(self, plan: Plan) -> bool:
        return self.can_edit_tambon(plan.tambon)


class UserSession(db.Model):
    """A signed-in device (planapp/accounts/sessions.py): the cookie holds a random token, the
    server only its digest; deleting the row signs the device out."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class PendingImport(db.Model):
    """An Excel file uploaded for a plan, waiting between its preview and the confirmation
    (planapp/intake/import_routes.py). Kept in the database, not on the disk of the server
    that received it: behind one address with several app servers, the preview and the
    confirmation may reach another one. The uploading session holds the token; the row its
    digest."""

    __tablename__ = "pending_imports"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


# --- places -------------------------------------------------------------------------------


class Tambon(db.Model):
    __tablename__ = "tambons"
    __table_args__ = (UniqueConstraint("province", "district", "name"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(200))
    # The อปท. that receives the plan (อบต. or เทศบาล); it leads the ผ.02/1 projects.
    local_admin_agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="SET NULL")
    )

    villages: Mapped[list[Village]] = relationship(
        back_populates="tambon", order_by="Village.number", cascade="all, delete-orphan"
    )
    plans: Mapped[list[Plan]] = relationship(
        back_populates="tambon", order_by="Plan.fiscal_year.desc()", cascade="all, delete-orphan"
    )
    users: Mapped[list[User]] = relationship(secondary=user_tambons, back_populates="tambons")
    local_admin_agency: Mapped[Agency | None] = relationship()


def village_label(number: int, name: str) -> str:
    """How a village is named in lists and menus: its number (หมู่ที่), then its name."""
    return f"{number} {name}"


class Village(db.Model):
    __tablename__ = "villages"
    __table_args__ = (
        UniqueConstraint("tambon_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tambon_id: Mapped[int] = mapped_column(ForeignKey("tambons.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # หมู่ที่
    name: Mapped[str] = mapped_column(String(200))

    tambon: Mapped[Tambon] = relationship(back_populates="villages")

    @property
    def label(self) -> str:
        return village_label(self.number, self.name)


# --- who does it, what it serves ----------------------------------------------------------


class Agency(db.Model):
    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint(_in("kind", ["local", "government", "private", "community"]), name="kind"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="government")


class Strategy(db.Model):
    __tablename__ = "strategies"
    __table_args__ = (
        # A code is unique per level within its area. '' (not NULL) for "no province/district"
        # so that a unique index can compare them; an อปท.'s strategies by its agency.
        Index(
            "uq_strategies_level_code_place",
            "level",
            "code",
            "area_province",
            "area_district",
            unique=True,
            sqlite_where=text("area_agency_id IS NULL"),
            postgresql_where=text("area_agency_id IS NULL"),
        ),
        Index(
            "uq_strategies_level_code_agency",
            "level",
            "code",
            "area_agency_id",
            unique=True,
            sqlite_where=text("area_agency_id IS NOT NULL"),
            postgresql_where=text("area_agency_id IS NOT NULL"),
        ),
        CheckConstraint(_in("level", ["province", "district", "local"]), name="level"),
        # National (nothing), a province, a district of it, or an อปท. (alone).
        CheckConstraint(
            "(area_district = '' OR area_province <> '')"
            " AND (area_agency_id IS NULL OR (area_province = '' AND area_district = ''))",
            name="area",
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(500))
    # A กลยุทธ์ (tactic) is a strategy under its ยุทธศาสตร์: same level, its own code (1.1 under
    # 1), one level deep. A project aligned with a tactic is filed in the ผ.02 forms under the
    # tactic's strategy, then the tactic.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("strategies.id", ondelete="SET NULL"))

    # The area the strategy belongs to (planapp/areas.py: which tambons it applies to).
    area_province: Mapped[str] = mapped_column(String(200), default="", server_default="")
    area_district: Mapped[str] = mapped_column(String(200), default="", server_default="")
    area_agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE")
    )

    parent: Mapped[Strategy | None] = relationship(remote_side=[id])
    area_agency: Mapped[Agency | None] = relationship()


class SectorStrategy(db.Model):
    """The strategy (or tactic) proposed for a project of a sector: the administrator keeps the
    mapping (planapp/strategies.py), the facilitator confirms the proposals per plan. Shared by
    every tambon, like the strategies it names; a sector without a row proposes nothing."""

    __tablename__ = "sector_strategies"
    __table_args__ = (CheckConstraint(_in("sector", SECTORS), name="sector"),)

    sector: Mapped[str] = mapped_column(String(40), primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))

    strategy: Mapped[Strategy] = relationship()


# --- the plan -----------------------------------------------------------------------------


def new_project_uid() -> str:
    return uuid.uuid4().hex


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


class Plan(db.Model):
    """One tambon's integrated plan for one fiscal year (Buddhist Era)."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("tambon_id", "fiscal_year"),
        CheckConstraint("fiscal_year BETWEEN 2400 AND 2800", name="fiscal_year_be"),
        CheckConstraint("version >= 0", name="version_not_negative"),
        CheckConstraint(_in("grouping", ["strategy", "issue"]), name="grouping"),
        CheckConstraint("meeting_step BETWEEN 1 AND 7", name="meeting_step"),
        CheckConstraint(_in("projector_mode", PROJECTOR_MODES), name="projector_mode"),
        CheckConstraint(_in("projector_group", FUNDING_GROUPS), name="projector_group"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tambon_id: Mapped[int] = mapped_column(ForeignKey("tambons.id", ondelete="CASCADE"))
    # พ.ศ.; indexed: every roll-up starts from the plans of one year across all tambons.
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    # Every saved change increases it: the projector and stale-view checks rely on it.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Profile agreed at step 2.
    identity: Mapped[str] = mapped_column(Text, default="")
    development_position: Mapped[str] = mapped_column(Text, default="")
    direction: Mapped[str] = mapped_column(Text, default="")
    potential: Mapped[str] = mapped_column(Text, default="")
    key_problems: Mapped[str] = mapped_column(Text, default="")
    # What the ผ.02 forms say the plan answers to, before the blocks (design brief section 9):
    # ก. the national 20-year strategy, ข. the national economic and social development plan,
    # ค. the SDGs, ง. the provincial strategy, จ. the strategy of the อปท.s in the province.
    national_strategy: Mapped[str] = mapped_column(Text, default="", server_default="")
    national_plan: Mapped[str] = mapped_column(Text, default="", server_default="")
    sdgs: Mapped[str] = mapped_column(Text, default="", server_default="")
    province_strategy: Mapped[str] = mapped_column(Text, default="", server_default="")
    province_local_strategy: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The five-year local development plan this feeds (e.g. 2566-2570) and how its forms look.
    plan_start_year: Mapped[int | None] = mapped_column(Integer)
    grouping: Mapped[str] = mapped_column(String(20), default="strategy")
    show_kpi: Mapped[bool] = mapped_column(Boolean, default=True)
    # Public projector/phone views: only when opened, at an unguessable address.
    public_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_public_token)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the projector shows, chosen from the tablet, and for the "village" mode which village
    # (by its number, หมู่ที่: a plain value that travels with the plan file to another server),
    # for the "group" mode which funding group.
    projector_mode: Mapped[str] = mapped_column(String(20), default="board", server_default="board")
    projector_village_number: Mapped[int | None] = mapped_column(Integer)
    projector_group: Mapped[str | None] = mapped_column(String(20))
    # The forum record.
    forum_date: Mapped[date | None] = mapped_column(Date)
    forum_place: Mapped[str] = mapped_column(String(300), default="")
    forum_chair: Mapped[str] = mapped_column(String(200), default="")
    # Running the meeting (planapp/meeting): the step of the forum (1-7), the pause screen and
    # the message overlay on the projector, and when the hall agreed all three groups.
    meeting_step: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    screen_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    screen_message: Mapped[str] = mapped_column(String(200), default="", server_default="")
    agreed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    tambon: Mapped[Tambon] = relationship(back_populates="plans")
    projects: Mapped[list[Project]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", foreign_keys="projects.c.plan_id"
    )
    # The funding groups' rows (ceilings, confirmation); read through meeting.groups.plan_groups,
    # which adds the groups that have no row yet. Loaded with the plan where a page needs them.
    groups: Mapped[list[PlanGroup]] = relationship(viewonly=True)

    @property
    def title(self) -> str:
        return f"{self.tambon.name} {self.fiscal_year}"

    @property
    def plan_years(self) -> list[int]:
        start = self.plan_start_year or self.fiscal_year
        return list(range(start, start + 5))

    def outside_plan_years(self, wanted_year: int | None) -> bool:
        """A project wanted in this year (None: the plan's fiscal year) has no year column in
        the five-year local plan's forms: it is flagged and listed, never moved to another year."""
        return (wanted_year or self.fiscal_year) not in self.plan_years

    def active_projects(self):
        """Projects on the board: everything not merged into another project."""
        return db.session.scalars(
            select(Project)
            .where(Project.plan_id == self.id, Project.merged_into_id.is_(None))
            .order_by(Project.funding_group, Project.rank)
        ).all()


# --- projects and their places on the board -----------------------------------------------
#
# A project is two rows: its content in `projects` (wide: titles, reasons, notes) and its place
# on the board in `board_places` (narrow: group and rank). A move shifts the ranks of every card
# below it; keeping those in a narrow table makes each shifted row a few bytes instead of a
# rewrite of the whole project (and far fewer pages written per move). The ORM class `Project`
# is mapped to the join of the two, so code reads and writes `project.rank` as before.

projects_table = Table(
    "projects",
    db.metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("rationale", Text, nullable=False, default=""),
    Column("objective", Text, nullable=False, default=""),
    Column("target_output", Text, nullable=False, default=""),
    Column("location", Text, nullable=False, default=""),
    Column("sector", String(40), nullable=False, default="infrastructure"),
    Column("programme", String(60), nullable=False, default=""),  # แผนงาน
    # Money as integer satang: exact, and the same on SQLite and PostgreSQL.
    Column("budget_satang", BigInteger, nullable=False, default=0),
    Column("wanted_year", Integer),  # the fiscal year (พ.ศ.) it is wanted in
    Column("kpi", Text, nullable=False, default=""),
    Column("expected_result", Text, nullable=False, default=""),
    Column("village_rank", Integer),  # the village's own order
    # The village whose own list `village_rank` orders the project (its first source village).
    # The other source villages of a joint project join it without a place in their lists.
    Column("proposed_by_id", ForeignKey("villages.id", ondelete="SET NULL")),
    Column("feasibility", String(20), nullable=False, default="pending"),
    Column("feasibility_reason", Text, nullable=False, default=""),
    Column("urgency", String(20)),
    # Indexed: an agency's page looks its projects up by lead agency across every plan.
    Column("lead_agency_id", ForeignKey("agencies.id", ondelete="SET NULL"), index=True),
    Column("note", Text, nullable=False, default=""),
    Column("votes", Integer, nullable=False, default=0),
    # Follow-up after the forum.
    Column("followup_status", String(20), nullable=False, default="none"),
    Column("followup_date", Date),
    Column("followup_note", Text, nullable=False, default=""),
    Column("budget_ordinance_satang", BigInteger),
    Column("budget_ordinance_year", Integer),
    # Merging duplicates: the merged-away project points at the tambon project that keeps it.
    Column("merged_into_id", ForeignKey("projects.id", ondelete="SET NULL")),
    Column("carried_over_from_id", ForeignKey("projects.id", ondelete="SET NULL")),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Column("updated_at", DateTime, nullable=False, default=utcnow, onupdate=utcnow),
    # The same project on every server (planapp/sync): travels in the plan file, so a hall
    # laptop's plan and the district server's copy are compared project by project. NULL for
    # rows made before it (they are matched by title).
    Column("uid", String(32), default=new_project_uid),
    CheckConstraint("budget_satang >= 0", name="budget_not_negative"),
    CheckConstraint(
        _in("feasibility", ["pending", "feasible", "needs_study", "not_feasible"]),
        name="feasibility",
    ),
    CheckConstraint(
        "urgency IS NULL OR " + _in("urgency", ["urgent", "medium", "normal"]), name="urgency"
    ),
    CheckConstraint(
        _in(
            "followup_status",
            ["none", "sent", "in_local_plan", "in_budget", "in_progress", "done", "dropped"],
        ),
        name="followup_status",
    ),
    CheckConstraint("votes >= 0", name="votes_not_negative"),
    # The board place names its project together with the plan: both stay the same plan's.
    UniqueConstraint("id", "plan_id"),
    **NEVER_REUSE_IDS,
)

board_places = Table(
    "board_places",
    db.metadata,
    Column("project_id", Integer, primary_key=True),
    Column("plan_id", Integer, nullable=False),
    Column("funding_group", String(20), nullable=False, default="unsorted"),
    Column("rank", Integer),  # priority inside its group
    # Stamps for several tablets at once (plan versions): when this card was last placed by a
    # move of its own (not shifted by a neighbour's), and when its decisions were last edited.
    # A move is refused only if its card or anchor was placed since the tablet's version; a
    # panel save only if the project was edited since the panel was opened.
    Column("placed_version", Integer, nullable=False, default=0, server_default="0"),
    Column("edited_version", Integer, nullable=False, default=0, server_default="0"),
    ForeignKeyConstraint(
        ["project_id", "plan_id"],
        ["projects.id", "projects.plan_id"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
    CheckConstraint(_in("funding_group", GROUPS), name="funding_group"),
    CheckConstraint("rank IS NULL OR rank > 0", name="rank_positive"),
    # Ranks are unique inside a group; merged projects leave the board with rank NULL.
    UniqueConstraint("plan_id", "funding_group", "rank"),
)


class Project(db.Model):
    """One proposal (แผนงาน/โครงการ) and where the forum placed it: `projects` joined with its
    `board_places` row (see above)."""

    __table__ = projects_table.join(
        board_places,
        and_(
            projects_table.c.id == board_places.c.project_id,
            projects_table.c.plan_id == board_places.c.plan_id,
        ),
    )

    # The two tables' copies of the key are one attribute: the ORM writes both.
    id = column_property(projects_table.c.id, board_places.c.project_id)
    plan_id = column_property(projects_table.c.plan_id, board_places.c.plan_id)
    title: Mapped[str]
    rationale: Mapped[str]
    objective: Mapped[str]
    target_output: Mapped[str]
    location: Mapped[str]
    sector: Mapped[str]
    programme: Mapped[str]
    budget_satang: Mapped[int]
    wanted_year: Mapped[int | None]
    kpi: Mapped[str]
    expected_result: Mapped[str]
    village_rank: Mapped[int | None]
    proposed_by_id: Mapped[int | None]
    feasibility: Mapped[str]
    feasibility_reason: Mapped[str]
    funding_group: Mapped[str]
    rank: Mapped[int | None]
    placed_version: Mapped[int]
    edited_version: Mapped[int]
    urgency: Mapped[str | None]
    lead_agency_id: Mapped[int | None]
    note: Mapped[str]
    votes: Mapped[int]
    followup_status: Mapped[str]
    followup_date: Mapped[date | None]
    followup_note: Mapped[str]
    budget_ordinance_satang: Mapped[int | None]
    budget_ordinance_year: Mapped[int | None]
    merged_into_id: Mapped[int | None]
    carried_over_from_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    plan: Mapped[Plan] = relationship(
        back_populates="projects", foreign_keys=[projects_table.c.plan_id]
    )
    # omit_join=False: SQLAlchemy's test for leaving the project out of a selectin load of a
    # many-to-many does not handle a class mapped to a join (it warns, then joins anyway).
    villages: Mapped[list[Village]] = relationship(
        secondary=project_villages, order_by="Village.number", omit_join=False
    )
    lead_agency: Mapped[Agency | None] = relationship(
        foreign_keys=[projects_table.c.lead_agency_id]
    )
    proposed_by: Mapped[Village | None] = relationship(
        foreign_keys=[projects_table.c.proposed_by_id]
    )
    supporting_agencies: Mapped[list[Agency]] = relationship(
        secondary=project_supporting_agencies, order_by="Agency.name", omit_join=False
    )
    strategies: Mapped[list[Strategy]] = relationship(
        secondary=project_strategies, order_by="Strategy.code", omit_join=False
    )
    merged_into: Mapped[Project | None] = relationship(
        remote_side=[projects_table.c.id], foreign_keys=[projects_table.c.merged_into_id]
    )

    @property
    def budget(self) -> Decimal:
        return Decimal(self.budget_satang) / 100

    @budget.setter
    def budget(self, baht) -> None:
        self.budget_satang = int((Decimal(str(baht)) * 100).to_integral_value())

    @property
    def village_numbers(self) -> list[int]:
        return [v.number for v in self.villages]


class ChangeLog(db.Model):
    """Every change to a plan: who, when, what, before and after. Undo reads it back; the live
    views read `regions` (what the change touched, see planapp.changes.Regions) to send only
    those."""

    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_plan_version", "plan_id", "plan_version"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(60))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text, default="")
    # None is stored as SQL NULL (not JSON null): undo looks for entries with a `before`.
    before: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    plan_version: Mapped[int] = mapped_column(Integer, default=0)  # the version this change made
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    # None: the change may have touched anything (every view renders itself whole).
    regions: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # What the change did, as codes and numbers (a group, a count, a village's id): the history
    # and the minutes word it in the reader's language (planapp/forum/history.py). None on
    # older rows, which show their `summary`.
    details: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    user: Mapped[User | None] = relationship()
    project: Mapped[Project | None] = relationship()


# --- running the meeting (planapp/meeting) ------------------------------------------------


class ForumAttendance(db.Model):
    """How many people of each village came to the forum (for the minutes and exports)."""

    __tablename__ = "forum_attendance"
    __table_args__ = (CheckConstraint("people >= 0", name="people_not_negative"),)

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True
    )
    people: Mapped[int] = mapped_column(Integer, default=0)

    village: Mapped[Village] = relationship()


class PlanGroup(db.Model):
    """A funding group of one plan: its optional budget ceiling and whether the hall confirmed
    its order (a confirmed group is locked: no move into, out of or inside it)."""

    __tablename__ = "plan_groups"
    __table_args__ = (
        CheckConstraint(_in("funding_group", ["1", "2", "3"]), name="funding_group"),
        CheckConstraint(
            "ceiling_satang IS NULL OR ceiling_satang >= 0", name="ceiling_not_negative"
        ),
    )

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    funding_group: Mapped[str] = mapped_column(String(20), primary_key=True)
    ceiling_satang: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    confirmed_by: Mapped[User | None] = relationship()


class PresentationTimer(db.Model):
    """Step 1: each village's presentation countdown. Stored as the moment it reaches zero while
    running, or the seconds left while paused, so every screen counts down alike."""

    __tablename__ = "presentation_timers"
    __table_args__ = (
        CheckConstraint("length_seconds > 0", name="length_positive"),
        CheckConstraint(
            "remaining_seconds IS NULL OR remaining_seconds >= 0", name="remaining_not_negative"
        ),
    )

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True
    )
    length_seconds: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)  # running
    remaining_seconds: Mapped[int | None] = mapped_column(Integer)  # paused
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    village: Mapped[Village] = relationship()

    @property
    def running(self) -> bool:
        return self.ends_at is not None


# --- phone ballots (planapp/ballots) ------------------------------------------------------


class VoteRound(db.Model):
    """A vote of the hall on one funding group's projects: ballots printed per village, each
    with up to `picks` choices. Not opened yet (opened_at NULL), open, or closed (closed_at);
    the facilitator can reopen a closed round. One round of a plan is open at a time."""

    __tablename__ = "vote_rounds"
    __table_args__ = (
        CheckConstraint(_in("funding_group", ["1", "2", "3"]), name="funding_group"),
        CheckConstraint("picks BETWEEN 1 AND 20", name="picks_range"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    funding_group: Mapped[str] = mapped_column(String(20))
    picks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The projector shows this round's turnout (and, once chosen, the totals as bars).
    on_screen: Mapped[bool] = mapped_column(Boolean, default=False)
    show_totals: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[Plan] = relationship()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None


class Ballot(db.Model):
    """One printed ballot card: one person, one round, one use. `token` (the QR code's address,
    128 random bits) and `code` (typed by hand) are kept as printed so a jammed print can be
    printed again; `used_at` is set once, by a conditional UPDATE."""

    __tablename__ = "ballots"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("vote_rounds.id", ondelete="CASCADE"), index=True
    )
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # the card's number in its village: 1..n
    token: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    round: Mapped[VoteRound] = relationship()
    village: Mapped[Village] = relationship()


class BallotPick(db.Model):
    """A project chosen on a used ballot: every count is reproducible from these rows."""

    __tablename__ = "ballot_picks"

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# --- the roll-ups' per-plan summaries (planapp/district/summaries.py) -----------------------

# A plan's figures as the roll-ups add them up (issue 18): written in the transaction of each
# change (record_change), for the plan's version then. A plan whose summary is missing or of
# another version is counted from its projects instead, so a summary is never wrong, only
# unused. `plan_summaries` says which version the figures are of (a plan with no project has a
# summary and no figure); `plan_summary_figures` holds one row per figure and key:
# ("group", funding group), ("urgency", tier or "none"), ("sector", sector), ("followup",
# status: count, budget requested, ordinance amount).
plan_summaries = Table(
    "plan_summaries",
    db.metadata,
    Column("plan_id", ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, nullable=False),
)
plan_summary_figures = Table(
    "plan_summary_figures",
    db.metadata,
    Column("plan_id", ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    Column("figure", String(16), primary_key=True),
    Column("key", String(32), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("satang", BigInteger, nullable=False),
    Column("ordinance_satang", BigInteger, nullable=False),
)


# --- outputs built in the background --------------------------------------------------------

JOB_STATUSES = ["queued", "running", "done", "failed"]


class ReportJob(db.Model):
    """A big output (an agency's workbook of a year and area) built by the jobs worker
    (planapp/jobs), not while a request waits. Bound to the user who asked and to the area it
    was built for: only that user downloads it, and only while the area is still theirs. The
    file waits in the database, so any app server hands it out. `error` is a code, worded when
    shown (planapp/jobs/routes.py)."""

    __tablename__ = "report_jobs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        # The worker claims the oldest queued job: this index is its whole search.
        Index("ix_report_jobs_status_id", "status", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    province: Mapped[str | None] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(40))
    file_name: Mapped[str | None] = mapped_column(String(300))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Written with every progress step: a running job whose worker stopped goes quiet.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    agency: Mapped[Agency | None] = relationship()


# --- halls that sync (planapp/sync) -------------------------------------------------------


class SyncToken(db.Model):
    """On the district server: a hall laptop's key to the sync API of one tambon. Only its
    digest is kept (the token is shown once, when issued); revoked, it opens nothing."""

    __tablename__ = "sync_tokens"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    tambon_id: Mapped[int] = mapped_column(ForeignKey("tambons.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # its first characters, to recognise it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_push_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    tambon: Mapped[Tambon] = relationship()
    created_by: Mapped[User | None] = relationship()


class SyncLink(db.Model):
    """On the hall laptop: where one plan syncs (the server's address and the token entered
    once), and the server's plan version it was last pulled or pushed at (`base_version`),
    with this plan's own version just after (`local_version`: later ones are changes made
    here). Stays on this laptop: never in the plan file."""

    __tablename__ = "sync_links"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    server_url: Mapped[str] = mapped_column(String(300), default="")
    token: Mapped[str] = mapped_column(String(200), default="")
    base_version: Mapped[int | None] = mapped_column(Integer)
    local_version: Mapped[int | None] = mapped_column(Integer)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)
