"""A job's page (its progress, polled by htmx), its file, and the worker's command.

    flask --app app jobs-worker        # beside gunicorn: `make run` starts both

The page is the user's own job only (another user's is 404, whatever their role: only roll-up
readers can ask for a job), and the file is handed out only while the job's area is still
within the user's (planapp/jobs/queue.py): an officer moved elsewhere, or no longer an officer,
is refused (403)."""

from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta

import click
from flask import Blueprint, abort, render_template, url_for

from planapp.accounts import current_user, login_required
from planapp.export.routes import download
from planapp.export.workbook import XLSX_MIMETYPE
from planapp.extensions import db
from planapp.fragments import region
from planapp.htmx import is_htmx
from planapp.jobs import outputs, queue
from planapp.models import ReportJob, utcnow

bp = Blueprint("jobs", __name__, cli_group=None)

# A job queued longer than this without starting, or running without a word (progress, the
# heartbeat) for longer than the report time limit allows: the page says the worker may not be
# running (queue.sweep fails the silent ones after STALE_SECONDS).
WORKER_MISSING_SECONDS = 30
SILENT_SECONDS = 60


def job_or_404(job_id: int) -> ReportJob:
    job = queue.own_job(current_user(), job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/jobs/<int:job_id>")
@login_required
def job_page(job_id: int):
    """The job's status: the whole page, or (htmx polling) its status region alone."""
    job = job_or_404(job_id)
    waiting, now = job.status == "queued", utcnow()
    silent = job.status == "running" and (
        job.heartbeat_at is None or job.heartbeat_at < now - timedelta(seconds=SILENT_SECONDS)
    )
    context = {
        "job": job,
        "ahead": queue.queued_ahead(job) if waiting else 0,
        "worker_missing": silent
        or (waiting and job.created_at < now - timedelta(seconds=WORKER_MISSING_SECONDS)),
        "keep_hours": queue.KEEP_HOURS,
        "stale_minutes": queue.STALE_SECONDS // 60,
    }
    if is_htmx():
        return region("jobs/_regions.html", "status", *context.values())
    if job.kind == outputs.AGENCY_WORKBOOK:
        back_url = url_for(
            "district.agency_view",
            agency_id=job.agency_id,
            year=job.fiscal_year,
            province=job.province,
            district=job.district,
        )
    else:
        back_url = url_for(
            "district.district_dashboard",
            year=job.fiscal_year,
            province=job.province,
            district=job.district,
        )
    return render_template("jobs/job.html", title=outputs.title(job), back_url=back_url, **context)


@bp.route("/jobs/<int:job_id>/file")
@login_required
def job_file(job_id: int):
    job = job_or_404(job_id)
    if not queue.still_their_area(current_user(), job):
        abort(403)
    if job.status != "done":
        abort(404)
    return download(job.content, XLSX_MIMETYPE, job.file_name)


@bp.cli.command("jobs-worker")
@click.option("--once", is_flag=True, help="Run the queued jobs, then stop.")
@click.option(
    "--nice",
    type=click.IntRange(0, 19),
    default=10,
    show_default=True,
    help="Lower the worker's CPU priority by this much: the forums' requests come first.",
)
def jobs_worker_command(once: bool, nice: int):
    """Build the big outputs (agency workbooks) that people asked for, one after another."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs-worker %(message)s")
    os.nice(nice)
    stopping = []

    def stop(signum, _frame):
        # Finish the job at hand, then stop; a second signal stops at once.
        stopping.append(signum)
        signal.signal(signum, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo("jobs worker: waiting for jobs (Ctrl+C to stop)")
    if once:
        while outputs.run_next_job():
            pass
    else:
        queue.work(outputs.BUILDERS, should_stop=lambda: bool(stopping))
    db.session.remove()
