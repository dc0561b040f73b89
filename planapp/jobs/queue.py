"""The jobs queue: a table of the app's own database (`report_jobs`), worked by
`flask jobs-worker` (planapp/jobs/routes.py), one job at a time per worker process.

Why a table and not a job library: the hall laptop has SQLite and nothing else (no Redis, no
broker process), and the district server PostgreSQL; RQ, Celery and Dramatiq need a broker,
Huey stores in SQLite or Redis but not in our PostgreSQL, procrastinate and PgQueuer only in
PostgreSQL. A table works on both with the session, migrations and tests we already have, and a
job's row also holds what a queue library would not: its progress, its file, and the user and
area it is bound to.

Claiming is one statement on both databases: `UPDATE ... WHERE id = (SELECT id ... WHERE status
= 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id` (SQLite has no FOR UPDATE
and runs one writer at a time; the `status = 'queued'` condition of the UPDATE makes a job
claimed once, whatever the race). Progress and the heartbeat are written on a connection of
their own, so they are seen while the job's reading transaction is still open; a running job
whose heartbeat is older than STALE_SECONDS lost its worker and is failed with that reason."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import OperationalError

from planapp import areas
from planapp.extensions import db
from planapp.models import ReportJob, User, utcnow
from planapp.reports import limit_report_statements, was_cancelled

log = logging.getLogger(__name__)

jobs = ReportJob.__table__

# A running job writes its heartbeat with every progress step (at least every few seconds while
# it reads rows or writes them): silent this long, its worker was stopped or killed.
STALE_SECONDS = 600
# A job and its file are deleted this long after they were asked for.
KEEP_HOURS = 24
# How often an idle worker looks for a queued job, and sweeps stale and old ones.
POLL_SECONDS = 1.0
SWEEP_SECONDS = 60.0
# Progress is written at most this often (one short UPDATE each).
PROGRESS_SECONDS = 0.5

# Why a job failed: a code kept in the row, worded when shown (routes.py).
TIMEOUT = "timeout"  # the report statement time limit stopped its query
STOPPED = "stopped"  # its worker stopped while building it
FAILED = "failed"  # anything else (the worker's log has the trace)

Builder = Callable[[ReportJob, "Progress"], tuple[str, bytes]]


def enqueue(
    user: User,
    kind: str,
    *,
    fiscal_year: int,
    area: areas.Area,
    language: str,
    agency_id: int | None = None,
) -> ReportJob:
    """A job for the user's output: the one already queued or running for the same output (a
    second click starts nothing new), else a new queued one. The caller commits."""
    same = select(ReportJob).where(
        ReportJob.user_id == user.id,
        ReportJob.kind == kind,
        ReportJob.fiscal_year == fiscal_year,
        ReportJob.agency_id.is_not_distinct_from(agency_id),
        ReportJob.province.is_not_distinct_from(area.province),
        ReportJob.district.is_not_distinct_from(area.district),
        ReportJob.language == language,
        ReportJob.status.in_(("queued", "running")),
    )
    job = db.session.scalar(same.order_by(ReportJob.id.desc()).limit(1))
    if job is None:
        job = ReportJob(
            user_id=user.id,
            kind=kind,
            agency_id=agency_id,
            fiscal_year=fiscal_year,
            province=area.province,
            district=area.district,
            language=language,
            status="queued",
            done=0,
        )
        db.session.add(job)
        db.session.flush()
    return job


def own_job(user: User, job_id: int) -> ReportJob | None:
    """The job, if the user asked for it (None otherwise: another user's job is not theirs to
    see, whoever they are)."""
    job = db.session.get(ReportJob, job_id)
    return job if job is not None and job.user_id == user.id else None


def still_their_area(user: User, job: ReportJob) -> bool:
    """The job's file is bound to the area it was built for: the user who asked may take it
    only while that area is still within theirs (an officer moved to another province may not)."""
    asked = areas.Area(job.province, job.district)
    try:
        return areas.scoped_filter(user, job.province, job.district) == asked
    except areas.OutsideArea:
        return False


def queued_ahead(job: ReportJob) -> int:
    """How many jobs the worker takes before this queued one."""
    return db.session.scalar(
        select(db.func.count())
        .select_from(jobs)
        .where(jobs.c.status == "queued", jobs.c.id < job.id)
    )


# --- the worker's side ------------------------------------------------------------------------


class Progress:
    """How far a running job is, written on a connection of its own (seen at once by the
    status page, whatever the job's own transaction holds), at most every PROGRESS_SECONDS."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.written_at = 0.0

    def total(self, total: int) -> None:
        self._write(total=total, done=0)

    def step(self, done: int) -> None:
        if time.monotonic() - self.written_at >= PROGRESS_SECONDS:
            self._write(done=done)

    def _write(self, **values) -> None:
        self.written_at = time.monotonic()
        with db.engine.begin() as connection:
            connection.execute(
                update(jobs).where(jobs.c.id == self.job_id).values(heartbeat_at=utcnow(), **values)
            )


def claim() -> int | None:
    """The oldest queued job, now running (its id), or None if none is queued. An idle worker
    only reads (the index on status): on SQLite it never takes the write lock the forum's
    changes need, on PostgreSQL it writes nothing every second."""
    if db.session.scalar(select(jobs.c.id).where(jobs.c.status == "queued").limit(1)) is None:
        db.session.rollback()
        return None
    oldest = (
        select(jobs.c.id)
        .where(jobs.c.status == "queued")
        .order_by(jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    now = utcnow()
    job_id = db.session.execute(
        update(jobs)
        .where(jobs.c.id == oldest, jobs.c.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now)
        .returning(jobs.c.id)
    ).scalar()
    db.session.commit()
    return job_id


def finish(job_id: int, **values) -> None:
    status = "failed" if values.get("error") else "done"
    db.session.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(status=status, finished_at=utcnow(), heartbeat_at=utcnow(), **values)
    )
    db.session.commit()


def run(job_id: int, builders: Mapping[str, Builder]) -> None:
    """Build the job's output in the language of the user who asked, under the report time
    limit, and keep the file in its row, or the reason it failed."""
    job = db.session.get(ReportJob, job_id)
    if job is None:  # deleted meanwhile, with its agency or its user
        return
    try:
        with current_app.test_request_context(), force_locale(job.language):
            limit_report_statements()
            file_name, content = builders[job.kind](job, Progress(job_id))
    except OperationalError as error:
        db.session.rollback()
        if not was_cancelled(error):
            log.exception("job %s failed", job_id)
        finish(job_id, error=TIMEOUT if was_cancelled(error) else FAILED)
    except Exception:
        db.session.rollback()
        log.exception("job %s failed", job_id)
        finish(job_id, error=FAILED)
    else:
        db.session.rollback()  # it only read; this also ends the time limit
        finish(job_id, file_name=file_name, content=content, done=job_total(job_id))


def job_total(job_id: int) -> int:
    return db.session.scalar(select(jobs.c.total).where(jobs.c.id == job_id)) or 0


def run_next(builders: Mapping[str, Builder]) -> bool:
    """Claim and run one queued job; False if there was none."""
    job_id = claim()
    if job_id is None:
        return False
    run(job_id, builders)
    return True


def sweep() -> None:
    """Fail the running jobs whose worker went quiet, delete the jobs past KEEP_HOURS."""
    now = utcnow()
    db.session.execute(
        update(jobs)
        .where(
            jobs.c.status == "running",
            or_(
                jobs.c.heartbeat_at.is_(None),
                jobs.c.heartbeat_at < now - timedelta(seconds=STALE_SECONDS),
            ),
        )
        .values(status="failed", error=STOPPED, finished_at=now)
    )
    db.session.execute(delete(jobs).where(jobs.c.created_at < now - timedelta(hours=KEEP_HOURS)))
    db.session.commit()


def work(builders: Mapping[str, Builder], should_stop: Callable[[], bool]) -> None:
    """The worker's loop: jobs one after another, a short sleep when none is queued, a sweep
    every SWEEP_SECONDS; returns when `should_stop()` (checked between jobs)."""
    swept_at = 0.0
    while not should_stop():
        if time.monotonic() - swept_at >= SWEEP_SECONDS:
            sweep()
            swept_at = time.monotonic()
        try:
            if run_next(builders):
                continue
        except OperationalError:
            # The database went away for a moment (a restart): try again after the pause.
            db.session.rollback()
            log.exception("jobs worker: the database did not answer")
        db.session.remove()
        time.sleep(POLL_SECONDS)
