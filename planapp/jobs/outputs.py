"""What the jobs worker builds, by the kind of job (planapp/jobs/queue.py runs them): each
builder takes the job's row (what was asked, for which year and area) and a Progress, and
returns the file's name and bytes."""

from __future__ import annotations

from flask_babel import gettext as _

from planapp.district import agencies, area_export
from planapp.district.agency_export import agency_file_name, agency_workbook_bytes
from planapp.extensions import db
from planapp.jobs.queue import Progress, run_next
from planapp.models import Agency, ReportJob

AGENCY_WORKBOOK = "agency_workbook"
AREA_WORKBOOK = "area_workbook"


def agency_workbook(job: ReportJob, progress: Progress) -> tuple[str, bytes]:
    """The agency's workbook of the year, of the area the job was asked for."""
    agency = db.session.get(Agency, job.agency_id)
    rows = agencies.agency_projects(agency, job.fiscal_year, job.province, job.district)
    progress.total(len(rows))
    content = agency_workbook_bytes(agency, job.fiscal_year, rows, progress=progress.step)
    return agency_file_name(agency, job.fiscal_year), content


def area_workbook(job: ReportJob, progress: Progress) -> tuple[str, bytes]:
    """The workbook of every project taken forward in the job's area (a province's)."""
    size = area_export.area_size(job.fiscal_year, job.province, job.district)
    progress.total(size.projects)
    content = area_export.area_workbook_bytes(
        job.fiscal_year, job.province, job.district, size, progress=progress.step
    )
    return area_export.area_file_name(job.fiscal_year, job.province, job.district), content


def title(job: ReportJob) -> str:
    """What the job builds, in words (its page's heading)."""
    if job.kind == AGENCY_WORKBOOK:
        name = job.agency.name
    else:
        name = area_export.area_name(job.province, job.district)
    return _("Workbook of %(name)s, fiscal year %(year)s", name=name, year=job.fiscal_year)


BUILDERS = {AGENCY_WORKBOOK: agency_workbook, AREA_WORKBOOK: area_workbook}


def run_next_job() -> bool:
    """Claim and build one queued job (the worker's step; tests call it in-process)."""
    return run_next(BUILDERS)
