"""Benchmark: the memory the Excel import takes to read a hostile workbook, beside a plain one.

    .venv/bin/python bench/import.py [--rows 3000]

The hostile file of issue 13 (item 6): every row of good projects carries one more cell in column
XFD (the last of 16,384), a file of about 64 KB that once took 900 MB to read (six at once: 5.4
GB). The plain file has the same rows without that cell. For each: the peak of Python allocations
(tracemalloc) while `read_workbook` runs, and the peak resident size of the process above what
it was just before (Linux: VmHWM after resetting it through /proc/self/clear_refs), for one read
and for six reads at once in threads, as six uploads would run in one gunicorn worker.
Target: under 50 MB extra for the hostile file.
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402

from bench.scratch import scratch_app  # noqa: E402
from planapp.demo import load_demo  # noqa: E402
from planapp.extensions import db  # noqa: E402
from planapp.intake import importer  # noqa: E402
from planapp.models import Plan  # noqa: E402

TARGET_MB = 50


def workbook(rows: int, far_right: bool) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([column.header for column in importer.COLUMNS])
    for n in range(rows):
        sheet.append(["1", n % 30 + 1, f"ถนนคอนกรีตสาย {n}", "ด้านโครงสร้างพื้นฐาน", 150000])
        if far_right:
            sheet.cell(row=n + 2, column=16384, value="x")
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def read(app, plan_id: int, data: bytes) -> str:
    """One upload's reading, in a request of its own (as in a gunicorn thread)."""
    with app.test_request_context():
        try:
            reading = importer.read_workbook(db.session.get(Plan, plan_id), data)
        except importer.ImportRefused as refused:
            return f"refused: {str(refused)[:60]}..."
        finally:
            db.session.remove()
        return f"read {len(reading.rows)} rows, {len(reading.problems)} problems"


def measure(label: str, app, plan_id: int, data: bytes, readers: int) -> float:
    def run():
        outcomes = []
        threads = [
            threading.Thread(target=lambda: outcomes.append(read(app, plan_id, data)))
            for _ in range(readers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    gc.collect()
    start_rss = _status_kb("VmRSS")
    can_reset = _reset_peak_rss()
    started = time.perf_counter()
    outcomes = run()
    wall = time.perf_counter() - started
    peak_rss = _status_kb("VmHWM")
    rss = (
        f"{(peak_rss - start_rss) / 1024:8.1f} MB"
        if can_reset and start_rss is not None and peak_rss is not None
        else "       n/a"
    )
    gc.collect()
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<34} {readers:>2} {wall:7.2f} s {peak / 2**20:8.1f} MB {rss}   {outcomes[0]}")
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()

    app = scratch_app()
    with app.app_context():
        db.create_all()
        plan_id = load_demo().id
        db.session.remove()
        hostile = workbook(args.rows, far_right=True)
        plain = workbook(args.rows, far_right=False)
        print(
            f"{args.rows} rows: hostile file {len(hostile) / 1024:.0f} KB (one cell in XFD a row), "
            f"plain file {len(plain) / 1024:.0f} KB"
        )
        print(f"{'':<34} {'at once':>7} {'wall':>7} {'tracemalloc':>11} {'RSS extra':>11}")
        peaks = {}
        for name, data in (("hostile", hostile), ("plain", plain)):
            for readers in (1, 6):
                peaks[name, readers] = measure(f"read the {name} file", app, plan_id, data, readers)
        print()
        peak = peaks["hostile", 1] / 2**20
        print(
            f"importer's peak memory for the hostile workbook: {peak:.1f} MB "
            f"(six at once: {peaks['hostile', 6] / 2**20:.1f} MB)   target < {TARGET_MB} MB extra"
        )


if __name__ == "__main__":
    main()
