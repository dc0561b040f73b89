"""Benchmark of a hall voting from phones (prints figures, asserts nothing).

    .venv/bin/python bench/ballots.py [--phones 300] [--seconds 60] [--picks 3]

The server is started like `make run` (gunicorn, gevent, 1 worker) over a scratch copy of the
demo tambon with most projects sorted into groups (bench/hall.py's Server). A vote round on
group 3 is issued with one ballot per phone, opened, and put on the projector. Then, at once:
- the projector's event stream and two tablets' board streams are open (read to the end);
- `--phones` phones each open their ballot (GET /b/<token>) and confirm their picks (POST), the
  phones starting evenly over `--seconds` (about one every 0.2 s for 300 in a minute);
- the facilitator moves cards one after another (POST /plans/<id>/moves), the cards of groups
  1 and 2 between those two groups: never group 3, the one being voted on, whose list the
  phones' picks are checked against.
Afterwards every ballot is sent a second time (all must be refused), the round is closed, and
the figures are read back from the database: per project, the picks the phones had accepted
against the picks stored on the ballots and the votes closing wrote.
Prints: whether every vote was counted once, the vote POST p50/p95, the ballot page p95, the
move p50/p95 throughout the vote and alone before it, the projector's events and the last
turnout it showed. Targets (issue 17): vote p95 < 200 ms, move p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hall import Facilitator, Server, gunicorn_args, ms  # noqa: E402

SETUP = """
import json, sys
from planapp import create_app
from planapp.ballots import rounds
from planapp.extensions import db
from planapp.models import Plan
app = create_app()
with app.app_context():
    plan = db.session.get(Plan, {plan_id})
    plan.is_public = True
    villages = plan.tambon.villages
    per = {{v.id: {phones} // len(villages) for v in villages}}
    per[villages[0].id] += {phones} - sum(per.values())
    vote = rounds.create_round(plan, "3", {picks}, per, actor=None)
    db.session.flush()
    rounds.open_vote(plan, vote, actor=None)
    rounds.show_on_screen(plan, vote, actor=None)
    db.session.commit()
    tokens = [b.token for b in rounds.round_ballots(vote)]
    others = [p.id for g in ("1", "2") for p in rounds.group_projects(plan.id, g)]
    print(json.dumps({{"round": vote.id, "tokens": tokens, "others": others}}))
"""


class Stream(threading.Thread):
    """An open event stream, read to the end; counts events and keeps the last turnout."""

    def __init__(self, opener, url: str):
        super().__init__(daemon=True)
        self.opener, self.url = opener, url
        self.events = 0
        self.turnout = ""
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.opener.open(self.url, timeout=120) as response:
                    for line in response:
                        if self.stop.is_set():
                            return
                        if line.startswith(b"event:"):
                            self.events += 1
                        found = re.search(rb'data-turnout-total="(\d+/\d+)"', line)
                        if found:
                            self.turnout = found.group(1).decode()
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)


def vote(base: str, token: str, listed: list[int], picks: int):
    """One phone: open the ballot, confirm its picks. (page seconds, vote seconds, status, the
    projects picked)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    started = time.perf_counter()
    page = opener.open(f"{base}/b/{token}", timeout=30).read().decode()
    opened = time.perf_counter()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    chosen = random.sample(listed, min(picks, len(listed)))
    body = urllib.parse.urlencode(
        [("csrf_token", csrf), *(("project_id", str(pid)) for pid in chosen)]
    ).encode()
    begun = time.perf_counter()
    try:
        with opener.open(urllib.request.Request(f"{base}/b/{token}", data=body), timeout=30) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as error:
        status = error.code
    return opened - started, time.perf_counter() - begun, status, chosen


def moves(
    facilitator: Facilitator, cards: list[int], until: threading.Event, durations: list[float]
) -> None:
    """Cards of groups 1 and 2 moved between those groups: group 3, on the phones, untouched."""
    while not until.is_set():
        _done, took = facilitator.change(cards, groups=("1", "2"))
        durations.append(took)


COUNT = """
import json
from sqlalchemy import func, select
from planapp import create_app
from planapp.extensions import db
from planapp.models import Ballot, BallotPick, Project
app = create_app()
with app.app_context():
    used = db.session.scalar(select(func.count()).select_from(Ballot).where(
        Ballot.round_id == {round_id}, Ballot.used_at.is_not(None)))
    picks = dict(db.session.execute(
        select(BallotPick.project_id, func.count()).join(Ballot)
        .where(Ballot.round_id == {round_id}).group_by(BallotPick.project_id)).all())
    votes = dict(db.session.execute(
        select(Project.id, Project.votes).where(Project.id.in_({listed}))).all())
    print(json.dumps({{"used": used, "picks": picks, "votes": votes}}))
"""


def run_json(server: Server, code: str):
    """Run `code` against the server's database; what it printed last, as JSON."""
    return json.loads(
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=server.env, check=True,
            capture_output=True, text=True,
        ).stdout.splitlines()[-1]
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--picks", type=int, default=3)
    parser.add_argument("--reference-moves", type=int, default=40)
    args = parser.parse_args()
    random.seed(17)
    instance = Path(tempfile.mkdtemp(prefix="planapp-ballots-bench-"))
    server = Server(instance, gunicorn_args("gevent", 1), {})
    plan_id, token = server.prepare()
    code = SETUP.format(plan_id=plan_id, phones=args.phones, picks=args.picks)
    setup = run_json(server, code)
    tokens, others = setup["tokens"], setup["others"]
    server.start()
    streams = []
    try:
        facilitator = Facilitator(server.url, plan_id)
        page = facilitator.get(f"/b/{tokens[0]}")
        listed = [int(i) for i in re.findall(r'name="project_id" value="(\d+)"', page)]
        alone: list[float] = []
        for _i in range(args.reference_moves):
            alone.append(facilitator.change(others, groups=("1", "2"))[1])
        refused_alone = facilitator.refused
        plain = urllib.request.build_opener()
        streams = [Stream(plain, f"{server.url}/live/{token}/events?layout=projector")]
        for _i in range(2):  # two tablets' boards, signed in as the facilitator
            streams.append(Stream(facilitator.opener, f"{server.url}/plans/{plan_id}/board/events"))
        for stream in streams:
            stream.start()
        time.sleep(1)  # the streams connect (a bench, not a test: no condition to wait for)

        during: list[float] = []
        stop = threading.Event()
        mover = threading.Thread(
            target=moves, args=(facilitator, others, stop, during), daemon=True
        )
        mover.start()
        results = []
        gap = args.seconds / max(len(tokens), 1)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=64) as pool:
            futures = []
            for number, ballot in enumerate(tokens):
                delay = began + number * gap - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(vote, server.url, ballot, listed, args.picks))
            results = [future.result() for future in futures]
        elapsed = time.perf_counter() - began
        stop.set()
        mover.join()
        time.sleep(1)  # the last turnout event reaches the projector's stream
        refused_during = facilitator.refused - refused_alone
        again = [vote(server.url, ballot, listed, args.picks)[2] for ballot in tokens]
        status, _body = facilitator.post(
            f"/plans/{plan_id}/rounds/{setup['round']}/close", {"csrf_token": facilitator.csrf}
        )
        check = COUNT.format(round_id=setup["round"], listed=listed)
        stored = run_json(server, check)
    finally:
        for stream in streams:
            stream.stop.set()
        server.stop()
    sent = [r for r in results if r[2] == 200]
    accepted = Counter(pid for r in sent for pid in r[3])
    picks = {int(k): v for k, v in stored["picks"].items()}
    votes = {int(k): v for k, v in stored["votes"].items()}
    voted = all(votes.get(pid, 0) == accepted.get(pid, 0) for pid in set(listed) | set(accepted))
    once = stored["used"] == len(sent) and picks == dict(accepted) and voted
    print(f"phones: {len(tokens)} over {elapsed:.1f} s; votes accepted {len(sent)}, "
          f"refused {len(results) - len(sent)} {dict(Counter(r[2] for r in results))}")  # fmt: skip
    print(f"second use of every ballot: {sum(1 for s in again if s == 409)} refused (409) "
          f"of {len(again)}, accepted {sum(1 for s in again if s == 200)}")  # fmt: skip
    print(f"every vote counted once: {'yes' if once else 'NO'} (ballots used {stored['used']} "
          f"of {len(sent)} accepted; picks stored {sum(picks.values())} of "
          f"{sum(accepted.values())} accepted, equal per project: {picks == dict(accepted)}; "
          f"votes after closing equal per project: {voted}; close answered {status})")  # fmt: skip
    print(f"vote POST: p50 {ms([r[1] for r in results])}, p95 {ms([r[1] for r in results], 0.95)}"
          f"; ballot page p95 {ms([r[0] for r in results], 0.95)}")  # fmt: skip
    print(f"facilitator's move throughout the vote: p50 {ms(during)}, p95 {ms(during, 0.95)} "
          f"({len(during)} moves of group 1/2 cards, {refused_during} refused as stale)"
          )  # fmt: skip
    print(f"facilitator's move alone before it: p50 {ms(alone)}, p95 {ms(alone, 0.95)}")
    print(f"projector stream: {streams[0].events} events, last turnout {streams[0].turnout}; "
          f"tablet streams: {[s.events for s in streams[1:]]} events")  # fmt: skip


if __name__ == "__main__":
    main()
