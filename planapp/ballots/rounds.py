"""Vote rounds and their ballots: plain functions, the acting user an argument.

A round is a vote on one funding group's projects. The facilitator sets the picks per ballot and
the ballots per village (by default the village's attendance), the app issues the ballots (each
a secret token for the QR code and a short code for typing) and prints them. A ballot is used
once: a conditional UPDATE (`used_at IS NULL`, round open) decides between two phones that send
it at the same moment. Closing the round counts the picks of the used ballots and writes the
totals as the projects' votes; every count comes from the stored ballots, so it can be counted
again (after a reopen, by anyone who reads the tables).

Tokens and codes are stored as printed (not as digests): the cards are printed before the forum
and a jammed or lost print must be printed again, which a digest cannot do. Whoever reads the
database could use an unused ballot, but could as well change the votes themselves; the print
page is the facilitator's only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import exists, func, insert, select, update

from planapp.cards import on_board
from planapp.changes import Regions, bump_version, record_change
from planapp.domain import FUNDING_GROUPS, GROUP_SHORT_LABELS
from planapp.extensions import db
from planapp.meeting.record import attendance
from planapp.models import (
    Ballot,
    BallotPick,
    Plan,
    Project,
    User,
    Village,
    VoteRound,
    utcnow,
)

# No 0/O, 1/I/L: a code read from paper is typed right. 31 symbols, 8 of them: about 2^39.6
# codes, guessed only at the typing throttle's pace (planapp/ballots/routes.py).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_PICKS = 20
MAX_BALLOTS_PER_VILLAGE = 5_000
# What a round's change touches on the live views: the vote screen's turnout (and totals).
TURNOUT = Regions(parts={"turnout"})


class BallotError(ValueError):
    """A refused ballot or round action; `reason` names it for tests and the page."""

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


def new_token() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """A code as typed ("abcd-efgh", spaces, lower case) in its stored form."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:40]


def printed_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


# --- reading --------------------------------------------------------------------------------


def plan_rounds(plan: Plan) -> list[VoteRound]:
    return db.session.scalars(
        select(VoteRound).where(VoteRound.plan_id == plan.id).order_by(VoteRound.id)
    ).all()


def round_of(plan: Plan, round_id: int | None) -> VoteRound | None:
    """The plan's round with this id (None for another plan's)."""
    found = db.session.get(VoteRound, round_id) if round_id else None
    return found if found is not None and found.plan_id == plan.id else None


def open_round(plan_id: int) -> VoteRound | None:
    return db.session.scalar(
        select(VoteRound).where(
            VoteRound.plan_id == plan_id,
            VoteRound.opened_at.is_not(None),
            VoteRound.closed_at.is_(None),
        )
    )


def default_ballots(plan: Plan) -> dict[int, int]:
    """Ballots per village id by default: the people of each village at the forum."""
    return attendance(plan)


def round_ballots(vote_round: VoteRound) -> list[Ballot]:
    return db.session.scalars(
        select(Ballot)
        .where(Ballot.round_id == vote_round.id)
        .join(Village, Village.id == Ballot.village_id)
        .order_by(Village.number, Ballot.number)
    ).all()


def group_projects(plan_id: int, group: str) -> list[Project]:
    """The projects a ballot of this group lists: on the board, in the group, in rank order."""
    return db.session.scalars(
        select(Project)
        .where(*on_board(plan_id), Project.funding_group == group)
        .order_by(Project.rank, Project.id)
    ).all()


def tallies(vote_round: VoteRound) -> dict[int, int]:
    """Picks per project id, counted from the used ballots of the round."""
    rows = db.session.execute(
        select(BallotPick.project_id, func.count())
        .join(Ballot, Ballot.id == BallotPick.ballot_id)
        .where(Ballot.round_id == vote_round.id, Ballot.used_at.is_not(None))
        .group_by(BallotPick.project_id)
    ).all()
    return dict(rows)


@dataclass
class TurnoutRow:
    village: Village
    issued: int
    cast: int


@dataclass
class RoundView:
    """What the projector, the tablet and the minutes show of a round."""

    round: VoteRound
    rows: list[TurnoutRow]
    totals: list[tuple[Project, int]] = field(default_factory=list)

    @property
    def group_label(self) -> str:
        return str(GROUP_SHORT_LABELS[self.round.funding_group])

    @property
    def issued(self) -> int:
        return sum(row.issued for row in self.rows)

    @property
    def cast(self) -> int:
        return sum(row.cast for row in self.rows)

    @property
    def most(self) -> int:
        return max([count for _p, count in self.totals] + [1])

    @property
    def status(self) -> str:
        if self.round.closed_at is not None:
            return "closed"
        return "open" if self.round.opened_at is not None else "ready"


def turnout(vote_round: VoteRound) -> list[TurnoutRow]:
    """Ballots issued and cast per village, in village order."""
    rows = db.session.execute(
        select(Village, func.count(Ballot.id), func.count(Ballot.used_at))
        .join(Ballot, Ballot.village_id == Village.id)
        .where(Ballot.round_id == vote_round.id)
        .group_by(Village.id)
        .order_by(Village.number)
    ).all()
    return [TurnoutRow(village, issued, cast) for village, issued, cast in rows]


def round_view(vote_round: VoteRound, with_totals: bool = False) -> RoundView:
    view = RoundView(vote_round, turnout(vote_round))
    if with_totals:
        counts = tallies(vote_round)
        projects = group_projects(vote_round.plan_id, vote_round.funding_group)
        listed = {p.id for p in projects}
        projects += [db.session.get(Project, pid) for pid in counts if pid not in listed]
        view.totals = sorted(
            ((p, counts.get(p.id, 0)) for p in projects if p is not None),
            key=lambda pair: -pair[1],
        )
    return view


def screen_round(plan: Plan) -> RoundView | None:
    """The round the projector shows, if the facilitator put one on screen."""
    shown = db.session.scalar(
        select(VoteRound).where(VoteRound.plan_id == plan.id, VoteRound.on_screen.is_(True))
    )
    if shown is None:
        return None
    return round_view(shown, with_totals=shown.show_totals)


def closed_rounds(plan: Plan, round_ids: list[int]) -> list[RoundView]:
    """These rounds of the plan, in this order, those closed now: who could vote and who did,
    per village, and the totals (the minutes)."""
    found = {r.id: r for r in plan_rounds(plan)}
    return [
        round_view(found[rid], with_totals=True)
        for rid in round_ids
        if rid in found and found[rid].closed_at is not None and found[rid].opened_at is not None
    ]


# --- the facilitator's actions ----------------------------------------------------------------


def create_round(
    plan: Plan, group: str, picks: int, per_village: dict[int, int], *, actor: User | None
) -> VoteRound:
    """A new round with its ballots issued: `per_village` ballots per village id."""
    if group not in FUNDING_GROUPS:
        raise BallotError(_("Choose funding group 1, 2 or 3."))
    if not 1 <= picks <= MAX_PICKS:
        raise BallotError(_("A ballot has from 1 to %(most)d picks.", most=MAX_PICKS))
    villages = {v.id for v in plan.tambon.villages}
    wanted = {vid: n for vid, n in per_village.items() if n}
    if any(vid not in villages for vid in wanted):
        raise BallotError(_("Choose a village of this tambon."))
    if any(not 0 <= n <= MAX_BALLOTS_PER_VILLAGE for n in wanted.values()):
        raise BallotError(_("Too many ballots for one village."))
    if not wanted:
        raise BallotError(_("Give at least one village a ballot."))
    vote_round = VoteRound(
        plan_id=plan.id, funding_group=group, picks=picks, created_by_id=actor and actor.id
    )
    db.session.add(vote_round)
    db.session.flush()
    rows = []
    codes = _fresh_codes(sum(wanted.values()))
    for village_id, count in sorted(wanted.items()):
        for number in range(1, count + 1):
            rows.append(
                dict(round_id=vote_round.id, village_id=village_id, number=number,
                     token=new_token(), code=codes.pop())
            )  # fmt: skip
    db.session.execute(insert(Ballot), rows)
    record_change(
        plan,
        "vote_round",
        actor=actor,
        details={"round": vote_round.id, "group": group, "ballots": len(rows), "picks": picks},
        regions=Regions(),
    )
    return vote_round


def _fresh_codes(count: int) -> list[str]:
    """`count` distinct codes that no ballot has yet (a clash is rare, but the column is
    unique across every plan, so a typed code names one ballot)."""
    codes: set[str] = set()
    while len(codes) < count:
        batch = {new_code() for _i in range(count - len(codes))} - codes
        taken = set(db.session.scalars(select(Ballot.code).where(Ballot.code.in_(batch))))
        codes |= batch - taken
    return sorted(codes)


def _screen_regions(vote_round: VoteRound) -> Regions:
    return Regions(parts={"screen"}) if vote_round.on_screen else TURNOUT


def open_vote(plan: Plan, vote_round: VoteRound, *, actor: User | None) -> None:
    """Open the round for voting (or reopen a closed one): one open round per plan."""
    if vote_round.is_open:
        return
    version = bump_version(plan)  # the plan's write lock: no other round opens meanwhile
    other = open_round(plan.id)
    if other is not None and other.id != vote_round.id:
        raise BallotError(_("Close the open vote round first."), "other_open")
    reopened = vote_round.closed_at is not None
    vote_round.opened_at = vote_round.opened_at or utcnow()
    vote_round.closed_at = None
    details = {"round": vote_round.id, "group": vote_round.funding_group, "reopened": reopened}
    record_change(
        plan, "vote_open", actor=actor, details=details, regions=_screen_regions(vote_round),
        version=version,
    )  # fmt: skip


def close_vote(plan: Plan, vote_round: VoteRound, *, actor: User | None) -> dict[int, int]:
    """Close the round and write its totals as the votes of the group's projects (and of any
    project picked that has left the group since). Undo gives the votes back."""
    if not vote_round.is_open:
        raise BallotError(_("This vote round is not open."), "not_open")
    # The plan's write lock first: a ballot cast meanwhile is counted or refused, never lost.
    version = bump_version(plan)
    vote_round.closed_at = utcnow()
    db.session.flush()
    counts = tallies(vote_round)
    projects = group_projects(plan.id, vote_round.funding_group)
    listed = {p.id for p in projects}
    projects += [
        p
        for p in db.session.scalars(select(Project).where(Project.id.in_(set(counts) - listed)))
        if p.plan_id == plan.id
    ]
    before, after = {}, {}
    for project in projects:
        votes = counts.get(project.id, 0)
        before[str(project.id)] = {"votes": project.votes}
        after[str(project.id)] = {"votes": votes}
        project.votes = votes
    view = round_view(vote_round)
    record_change(
        plan,
        "vote_close",
        actor=actor,
        # Who could vote and who did, per village: the history and the minutes word it.
        details={
            "round": vote_round.id,
            "group": vote_round.funding_group,
            "cast": view.cast,
            "issued": view.issued,
            "villages": {
                str(row.village.id): {"issued": row.issued, "cast": row.cast} for row in view.rows
            },
        },
        before={"projects": before},
        after={"projects": after},
        regions=Regions(
            cards={p.id for p in projects},
            groups={p.funding_group for p in projects},
            parts={"screen"} if vote_round.on_screen else set(),
        ),
        version=version,
    )
    return counts


def show_on_screen(
    plan: Plan, vote_round: VoteRound | None, show_totals: bool = False, *, actor: User | None
) -> None:
    """Put a round's turnout (and its totals as bars, when chosen) on the projector, or take
    every round off it (`vote_round` None)."""
    changed = take_off_screen(plan, keep=vote_round)
    if vote_round is not None:
        changed |= not vote_round.on_screen or vote_round.show_totals != show_totals
        vote_round.on_screen = True
        vote_round.show_totals = show_totals
    if not changed:
        return
    details = {"group": vote_round.funding_group if vote_round is not None else None}
    regions = Regions(parts={"screen", "control"})
    record_change(plan, "vote_screen", actor=actor, details=details, regions=regions)


def take_off_screen(plan: Plan, keep: VoteRound | None = None) -> bool:
    """Take every round of the plan but `keep` off the projector; whether one was on it."""
    conditions = [VoteRound.plan_id == plan.id, VoteRound.on_screen.is_(True)]
    if keep is not None:
        conditions.append(VoteRound.id != keep.id)
    result = db.session.execute(
        update(VoteRound).where(*conditions).values(on_screen=False),
        execution_options={"synchronize_session": "fetch"},
    )
    return bool(result.rowcount)


# --- the phone's ballot -----------------------------------------------------------------------


def ballot_by_token(token: str) -> Ballot | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Ballot).where(Ballot.token == token))


def ballot_by_code(text: str) -> Ballot | None:
    code = normalize_code(text)
    if len(code) != CODE_LENGTH:
        return None
    return db.session.scalar(select(Ballot).where(Ballot.code == code))


def refusal(ballot: Ballot) -> BallotError | None:
    """Why this ballot cannot vote now (None: it can)."""
    vote_round = ballot.round
    if ballot.used_at is not None:
        return BallotError(_("This ballot has been used already: each ballot votes once."), "used")
    if vote_round.closed_at is not None:
        return BallotError(_("This vote is closed: the ballot can no longer be used."), "closed")
    if vote_round.opened_at is None:
        current = open_round(vote_round.plan_id)
        if current is not None:
            return BallotError(
                _(
                    "This ballot is for the vote on %(group)s; the vote open now is on %(open)s.",
                    group=GROUP_SHORT_LABELS[vote_round.funding_group],
                    open=GROUP_SHORT_LABELS[current.funding_group],
                ),
                "wrong_round",
            )
        return BallotError(
            _("This vote has not started yet. Please wait for the facilitator."), "not_open"
        )
    return None


def cast(ballot: Ballot, project_ids: list[int]) -> None:
    """Vote with `ballot` for `project_ids` (the caller commits). Refused (BallotError) when the
    ballot cannot vote, or the picks are not the round's to choose."""
    error = refusal(ballot)
    if error is not None:
        raise error
    vote_round = ballot.round
    chosen = set(project_ids)
    if not chosen:
        raise BallotError(_("Choose at least one project."), "no_picks")
    if len(chosen) != len(project_ids) or len(chosen) > vote_round.picks:
        raise BallotError(
            _("Choose at most %(picks)d projects.", picks=vote_round.picks), "too_many"
        )
    listed = {p.id for p in group_projects(vote_round.plan_id, vote_round.funding_group)}
    if not chosen <= listed:
        raise BallotError(_("Choose among the projects listed on this ballot."), "not_listed")
    plan = vote_round.plan
    version = bump_version(plan)  # the plan's write lock: a close waits for this vote, or wins
    round_open = exists().where(
        VoteRound.id == Ballot.round_id,
        VoteRound.opened_at.is_not(None),
        VoteRound.closed_at.is_(None),
    )
    used = db.session.execute(
        update(Ballot)
        .where(Ballot.id == ballot.id, Ballot.used_at.is_(None), round_open)
        .values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if used.rowcount != 1:
        # Another phone used it a moment ago, or the round closed: say which.
        db.session.rollback()
        db.session.refresh(ballot)
        db.session.refresh(ballot.round)
        raise refusal(ballot) or BallotError(_("This ballot cannot be used now."), "used")
    db.session.execute(
        insert(BallotPick), [{"ballot_id": ballot.id, "project_id": pid} for pid in sorted(chosen)]
    )
    record_change(
        plan,
        "ballot",
        actor=None,
        # Who chose what stays on the ballot rows, never in the log: only the village shows.
        details={"round": vote_round.id, "village_id": ballot.village_id},
        regions=TURNOUT,
        version=version,
        write_now=True,
    )
