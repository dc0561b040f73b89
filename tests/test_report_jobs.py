"""Big outputs off the request path (issue 18, planapp/jobs): an agency's workbook of more rows
than INLINE_WORKBOOK_ROWS is asked for, built by the worker's function in-process (as
`flask jobs-worker` runs it), followed on its page and downloaded; a failed job says why; the
job and its file belong to the user and the area who asked. Both databases (the claim is one
UPDATE; FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select, text

from planapp.district.agencies import agency_project_count
from planapp.extensions import db
from planapp.jobs import outputs, queue
from planapp.jobs.queue import jobs
from planapp.models import Agency, Plan, Project, ReportJob, User, utcnow
from planapp.taken_forward import taken_forward_clause
from tests.conftest import add_officer
from tests.district_helpers import build_district

HTMX = {"HX-Request": "true"}
LEAD = "สำนักงานเกษตรอำเภอทดสอบ"


def a_district(app):
    """build_district's district (province ทดสอบ) and its agency; every workbook goes through
    the jobs worker."""
    app.config["INLINE_WORKBOOK_ROWS"] = 5
    build_district(tambons=3, fiscal_year=2570)
    return db.session.scalar(db.select(Agency).where(Agency.name == LEAD))


def ask(client, agency: Agency | None, url: str = "") -> int:
    url = url or f"/agencies/{agency.id}/export.xlsx?year=2570"
    offer = client.get(url)
    assert offer.status_code == 200 and "data-start-job" in offer.get_data(as_text=True)
    response = client.post(url)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.fullmatch(r".*/jobs/(\d+)", response.headers["Location"]).group(1))


def status_of(client, job_id: int) -> tuple[str, str]:
    response = client.get(f"/jobs/{job_id}", headers=HTMX)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return re.search(r'data-job-status="(\w+)"', page).group(1), page


def test_a_big_workbook_is_built_by_the_worker_and_downloaded(app, admin_client):
    agency = a_district(app)
    rows = agency_project_count(agency, 2570)
    assert rows > 5
    job_id = ask(admin_client, agency)
    assert ask(admin_client, agency) == job_id  # asked again while waiting: the same job

    page = admin_client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert LEAD in page and 'aria-live="polite"' in page
    status, region = status_of(admin_client, job_id)
    assert status == "queued" and 'hx-trigger="every 1s"' in region
    assert "รอ" in region  # Thai first
    assert admin_client.get(f"/jobs/{job_id}/file").status_code == 404  # not ready yet

    # Progress is written while it runs, on a connection of its own: seen by any other
    # connection (the status page's, in another process) while the job's transaction is open.
    seen = []
    build = outputs.BUILDERS[outputs.AGENCY_WORKBOOK]

    def watched(job, progress):
        original = progress.step

        def step(done):
            progress.written_at = 0  # write every step here
            original(done)
            with db.engine.connect() as connection:
                seen.append(connection.execute(statement).one())

        progress.step = step
        return build(job, progress)

    statement = select(jobs.c.status, jobs.c.done, jobs.c.total).where(jobs.c.id == job_id)
    outputs.BUILDERS[outputs.AGENCY_WORKBOOK] = watched
    try:
        assert outputs.run_next_job() is True
    finally:
        outputs.BUILDERS[outputs.AGENCY_WORKBOOK] = build
    assert outputs.run_next_job() is False  # nothing else queued
    assert seen == [("running", done, rows) for done in range(1, rows + 1)]

    status, region = status_of(admin_client, job_id)
    assert status == "done" and "hx-trigger" not in region and "data-job-file" in region
    response = admin_client.get(f"/jobs/{job_id}/file")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert f"agency-{agency.id}-" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["โครงการ", "รายตำบล"]  # in the language of the one who asked
    numbered = [r for r in wb["โครงการ"].iter_rows(min_row=4) if isinstance(r[0].value, int)]
    assert len(numbered) == rows


def test_a_failed_job_says_why(app, admin_client):
    agency = a_district(app)
    build = outputs.BUILDERS[outputs.AGENCY_WORKBOOK]
    on_postgres = db.engine.dialect.name == "postgresql"

    def failing(job, progress):
        if on_postgres:  # the report time limit holds in the worker too
            db.session.execute(text("SELECT pg_sleep(2)"))
        raise RuntimeError("broken")

    app.config["REPORT_STATEMENT_TIMEOUT_MS"] = 50
    outputs.BUILDERS[outputs.AGENCY_WORKBOOK] = failing
    try:
        job_id = ask(admin_client, agency)
        outputs.run_next_job()
    finally:
        outputs.BUILDERS[outputs.AGENCY_WORKBOOK] = build
    status, region = status_of(admin_client, job_id)
    assert status == "failed" and "hx-trigger" not in region
    reason = "timeout" if on_postgres else "failed"
    assert f'data-job-error="{reason}"' in region and 'role="alert"' in region
    assert admin_client.get(f"/jobs/{job_id}/file").status_code == 404

    # A worker that stopped mid-job (killed, the machine off): its job goes quiet, then fails.
    admin_client.post("/language", data={"language": "en", "next": "/"})
    job_id = ask(admin_client, agency)
    assert queue.claim() == job_id
    job = db.session.get(ReportJob, job_id)
    job.total, job.done = 40, 30
    db.session.commit()
    status, region = status_of(admin_client, job_id)
    assert status == "running" and 'max="40" value="30"' in region
    assert "30 of 40 rows written" in region
    job.heartbeat_at = utcnow() - timedelta(seconds=queue.STALE_SECONDS + 1)
    db.session.commit()
    assert "the jobs worker may have stopped" in status_of(admin_client, job_id)[1]
    queue.sweep()
    status, region = status_of(admin_client, job_id)
    assert status == "failed" and "The jobs worker stopped while building" in region


def test_a_job_belongs_to_the_user_and_area_who_asked(app, client, admin_client):
    agency = a_district(app)
    add_officer("province", "provincial_officer", "ทดสอบ")
    add_officer("colleague", "provincial_officer", "ทดสอบ")
    add_officer("elsewhere", "provincial_officer", "เชียงราย")
    clients = {}
    for name in ("province", "colleague", "elsewhere"):
        clients[name] = app.test_client()
        clients[name].login(name)

    # Another area's officer cannot even ask for it.
    url = f"/agencies/{agency.id}/export.xlsx?year=2570&province=ทดสอบ"
    assert clients["elsewhere"].post(url).status_code == 403
    job_id = ask(clients["province"], agency)
    job = db.session.get(ReportJob, job_id)
    assert job.province == "ทดสอบ"  # within the officer's own area
    outputs.run_next_job()
    assert clients["province"].get(f"/jobs/{job_id}/file").status_code == 200

    # Nobody else sees the job or takes its file: not the same province's colleague, not
    # another area's officer, not the administrator, not a visitor.
    for other in (clients["colleague"], clients["elsewhere"], admin_client):
        assert other.get(f"/jobs/{job_id}").status_code == 404
        assert other.get(f"/jobs/{job_id}/file").status_code == 404
    assert client.get(f"/jobs/{job_id}/file").status_code in (302, 401)

    # Moved to another province, the officer no longer takes the old province's file.
    officer = db.session.scalar(db.select(User).where(User.username == "province"))
    officer.area_province = "เชียงราย"
    db.session.commit()
    assert clients["province"].get(f"/jobs/{job_id}/file").status_code == 403


def test_a_province_workbook_lists_every_project_taken_forward(app, admin_client):
    """The province's workbook (the dashboard's link): at once when small, else from the
    worker, read back with openpyxl; both list every project taken forward, once."""
    build_district(tambons=3, fiscal_year=2570)
    url = "/district/export.xlsx?year=2570&province=ทดสอบ"
    page = admin_client.get("/district?year=2570&province=ทดสอบ").get_data(as_text=True)
    assert "/district/export.xlsx?" in page
    expected = db.session.scalar(
        select(db.func.count())
        .select_from(Project)
        .join(Plan, Project.plan_id == Plan.id)
        .where(Plan.fiscal_year == 2570, taken_forward_clause())
    )
    at_once = admin_client.get(url)
    assert at_once.mimetype.endswith("spreadsheetml.sheet")

    app.config["INLINE_WORKBOOK_ROWS"] = 5
    job_id = ask(admin_client, None, url)
    assert outputs.run_next_job() is True
    from_worker = admin_client.get(f"/jobs/{job_id}/file")
    assert from_worker.status_code == 200
    for response in (at_once, from_worker):
        wb = load_workbook(io.BytesIO(response.data))
        assert wb.sheetnames == ["โครงการ", "รายตำบล"]
        ws = wb["โครงการ"]
        numbered = [r for r in ws.iter_rows(min_row=3) if isinstance(r[0].value, int)]
        assert [r[0].value for r in numbered] == list(range(1, expected + 1))
        assert {r[1].value for r in numbered} == {"ทดสอบ"}
        total = ws.cell(row=ws.max_row, column=11).value
        assert total == f"=SUM(K3:K{ws.max_row - 1})"
        counts = [r[3].value for r in wb["รายตำบล"].iter_rows(min_row=3, max_row=5)]
        assert sum(counts) == expected
