"""HTTP throughput and latency of CareerPrep's hot pages against a bare Flask app, measured with wrk.

    .venv/bin/python bench/http_bench.py --quick            # small SQLite dataset, 3 s per scenario
    .venv/bin/python bench/seed_large.py                    # once: bench/large.sqlite
    .venv/bin/python bench/http_bench.py                    # SQLite, bench/large.sqlite (a copy)
    .venv/bin/python bench/seed_large.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/careerprep_bench
    .venv/bin/python bench/http_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/careerprep_bench

(Named http_bench.py, not http.py: a bench/http.py would shadow the standard library's `http` package
for every script run from bench/, and load_reviews.py and dashboard.py would stop working.)

All three apps are served the same way: ``gunicorn -c gunicorn.conf.py`` with WEB_CONCURRENCY workers
(default 2 x cores + 1) on 127.0.0.1, access log off. CareerPrep runs with production settings: CSRF
and rate limiting on (``RATELIMIT_STORAGE_URI=memory://``), a fixed SECRET_KEY, and
``SESSION_COOKIE_SECURE=0`` so cookies travel over plain HTTP. Its JSON request log (one line per
request, on in production) is off (``LOG_REQUESTS=0``): it costs about 0.05-0.1 ms a request.

Scenarios (wrk, 2 threads, --connections, --duration each after a --warmup run that is not counted):

- hello: GET /hello on bench/baseline_app.py, the yardstick for every ratio.
- plain page: GET /plain/next on bench/plain_app.py, a deliberately plain Flask + Flask-SQLAlchemy
  drill over the same database (one user get, one indexed "next due card" query, a Jinja fragment)
  for the drill user: the drill fragment must be at least as fast (issue 21).
- plain POST: POST /plain/rate on the plain app (an FSRS step, an UPDATE and an INSERT, one commit,
  ``synchronous=FULL``), cycling over the cards of user9..user16 (not the rating users, whose daily
  review limits the drill counts): the rating POST must be at least as fast.
- healthz: CareerPrep's GET /healthz (SELECT 1): the app's per-request floor.
- drill fragment / drill page: GET /roles/<slug>/drill with HX-Request, and the full page, as the
  rating user with the most cards due now (the response must show a question, not the "done" card).
- catalogue: GET /roles as that user.
- rating POST: POST /roles/<slug>/drill (htmx) with a fresh one-time review token per request,
  spread over users user1..user8 and their studied cards. Tokens are made in-process with the app's
  own ``issue_token`` and the same SECRET_KEY, written to one file per wrk thread, and each is sent
  once (the Lua script counts any request sent after its file ran out as "reused", an error).
- dashboard: GET /dashboard as heavy@example.com (100,000 reviews in the large dataset).

Ratios are to hello, and for the drill fragment and the rating POST also to the plain app's page and
POST ("vs plain"), all measured in the same run; the targets are issue 21's (TARGETS).

Users sign in once over HTTP (login form, then the CSRF token from the landing page's hx-headers);
wrk replays their cookie and X-CSRFToken. Every response is checked: its status must be 200 and its
body must carry the scenario's marker (a question's "Show answer", the dashboard, "Rated ..."), so a
redirect to the login page or an "Already recorded" counts as an error, as do socket errors and
timeouts.
Before each run every scenario is tried once from Python, and the run stops if one fails.

The SQLite dataset is copied to a temporary directory first, so ratings never change the seed file
and runs are repeatable; PostgreSQL is used in place (each run adds the rating POSTs' reviews and
sign-ins to it). The wrk client runs on the same machine as gunicorn and takes CPU from it: compare
ratios measured in the same run, not absolute figures across machines. The machine is shared, so
before each scenario the script waits (up to --settle seconds) for other processes to use under 10%
of the CPU, and reports the share they used during each measurement ("other CPU", from /proc/stat
minus the CPU time of gunicorn, its PostgreSQL backends, wrk and this script); a scenario disturbed
by 10% or more is measured again (--retries, default 2) and the quietest attempt is kept.

A full run rewrites its database's section of bench/RESULTS.md (the other database's section and the
hand-written sections from "What we changed" on are kept); --quick only prints, unless --output is
given. Every loop is bounded, every wrk run has a timeout, gunicorn is always stopped, and only
127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

import seed_large

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable  # gunicorn and flask run as modules of this interpreter, from ROOT
LUA = BENCH / "http_bench.lua"
RESULTS = BENCH / "RESULTS.md"
WRK = "/usr/bin/wrk"
HOST = "127.0.0.1"
USER_AGENT = "careerprep-http-bench"  # the same for sign-in and wrk: the session is bound to it
WRK_THREADS = 2
RATING_USERS = 8
PLAIN_USERS = range(RATING_USERS + 1, 2 * RATING_USERS + 1)  # the plain app rates other users' cards
CARDS_PER_USER = 200
RATING_WEIGHTS = ((1, 15), (2, 5), (3, 50), (4, 30))
MAX_TOKENS = 400_000
REQUEST_TIMEOUT = 30.0
QUIET = 10.0  # % of the machine other processes may use without disturbing a measurement

CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')
HX_HEADERS = re.compile(r"hx-headers='(\{[^']*\})'")
QUESTION = 'id="reveal"'  # a question's front with its "Show answer" control, not the "done" card
FULL_PAGE = "hx-headers="  # only base.html (a full page) carries the CSRF header on <body>
# A recorded rating announces "Rated Good. Next card." (after a leech warning when it suspends the card);
# a token already used, "Already recorded. Next card.".
RATED = "Rated "
ALREADY = 'data-announce="Already recorded'


@dataclass(frozen=True)
class Target:
    ratio: float | None = None  # share of hello's requests/s
    p99_ms: float | None = None
    p50_ms: float | None = None
    plain: str | None = None  # at least the requests/s of this plain-app scenario in the same run


# Issue 21's targets.
TARGETS = {
    "healthz": Target(ratio=0.60),
    "drill fragment": Target(ratio=0.25, p99_ms=40, plain="plain page"),
    "rating POST": Target(ratio=0.10, p99_ms=50, plain="plain POST"),
    "catalogue": Target(ratio=0.20),
    "dashboard": Target(ratio=0.03, p50_ms=150),
}
TARGETS_TEXT = (
    "Issue 21: healthz >= 60% of hello; drill fragment >= 25% of hello and >= 1.0x the plain page, "
    "p99 <= 40 ms; rating POST >= 10% of hello and >= 1.0x the plain POST, p99 <= 50 ms; catalogue "
    ">= 20%; dashboard (100,000 reviews) >= 3%, p50 <= 150 ms; zero errors."
)


@dataclass
class Scenario:
    name: str
    describe: str
    requests: str  # file pattern for the Lua script, %d = wrk thread
    once: bool = False
    need: str = "-"
    forbid: str = "-"


@dataclass
class Result:
    name: str
    describe: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    socket_errors: int
    http_errors: int  # status >= 400
    unexpected: int  # another status than 200, or a body without its marker
    reused: int  # one-time tokens sent twice because the prepared ones ran out
    marked: int = 0  # responses with status 200 and their scenario's marker (for ratings: recorded)
    codes: dict[str, int] = field(default_factory=dict)
    other_cpu: float = 0.0  # % of the machine used by other processes during the measurement
    attempts: int = 1

    @property
    def errors(self) -> int:
        other = sum(n for code, n in self.codes.items() if code != "200" and int(code) < 400)
        return self.socket_errors + self.http_errors + max(self.unexpected, other) + self.reused


@dataclass
class Options:
    database_url: str | None
    quick: bool
    workers: int
    connections: int
    duration: float
    warmup: float
    output: Path | None
    deadline: float
    settle: float
    retries: int


@dataclass
class Dataset:
    """What the scenarios need from the database: who signs in, which role, which cards."""

    url: str
    dialect: str
    server_version: str
    reviews: int
    heavy_reviews: int
    users: int
    questions: int
    drill_slug: str
    drill_email: str  # the rating user with the most cards due now: the drill shows a question
    drill_user: int
    raters: list[tuple[int, str, str, list[int]]]  # (user id, email, role slug, question ids)
    plain_raters: list[tuple[int, list[int]]]  # the plain app's POSTs: (user id, question ids)


class Deadline:
    """A point in time every step checks."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise RuntimeError(f"deadline passed before {what}")


# -- the database -------------------------------------------------------------------------------------


def app_environment(database_url: str) -> dict[str, str]:
    """Environment for gunicorn (both apps) and the in-process app: production settings, fixed key."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=seed_large.SECRET_KEY,
        RATELIMIT_STORAGE_URI="memory://",
        SESSION_COOKIE_SECURE="0",
        GUNICORN_ACCESS_LOG="/dev/null",
        LOG_REQUESTS="0",  # the app's JSON request log: production keeps it, the benchmark measures the app
    )
    return env


@contextmanager
def app_context(database_url: str) -> Iterator[None]:
    """The app in-process, configured from the environment gunicorn gets; the engine disposed after."""
    from careerprep import create_app
    from careerprep.extensions import db

    os.environ.update(app_environment(database_url))
    app = create_app()
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


def inspect_dataset(database_url: str) -> Dataset:
    """Find the heavy user, the rating users and their roles and cards; fail if the data is missing."""
    from careerprep.extensions import db
    from careerprep.models import CardState, Question, QuestionSet, Review, Role, User

    with app_context(database_url):
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            server = db.session.scalar(db.text("SHOW server_version"))
        else:
            server = db.session.scalar(db.text("SELECT sqlite_version()"))
        heavy = db.session.scalar(db.select(User.id).filter_by(email=seed_large.HEAVY_EMAIL))
        if heavy is None:
            raise RuntimeError(
                f"no {seed_large.HEAVY_EMAIL} in this database: build it first with "
                "bench/seed_large.py (--database-url URL for PostgreSQL)"
            )
        raters = []
        for i in range(1, RATING_USERS + 1):
            email = f"user{i}@example.com"
            user_id = db.session.scalar(db.select(User.id).filter_by(email=email))
            row = db.session.execute(
                db.select(Role.slug, Role.id)
                .join(QuestionSet, QuestionSet.role_id == Role.id)
                .join(Question, Question.set_id == QuestionSet.id)
                .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user_id))
                .group_by(Role.slug, Role.id)
                .order_by(db.func.count(CardState.id).desc(), Role.slug)
                .limit(1)
            ).first()
            if user_id is None or row is None:
                raise RuntimeError(f"{email} is missing or has no cards: rebuild with bench/seed_large.py")
            questions = db.session.scalars(
                db.select(CardState.question_id)
                .join(Question, Question.id == CardState.question_id)
                .join(QuestionSet, Question.set_id == QuestionSet.id)
                .where(CardState.user_id == user_id, QuestionSet.role_id == row.id)
                .order_by(CardState.question_id)
                .limit(CARDS_PER_USER)
            ).all()
            raters.append((user_id, email, row.slug, list(questions)))
        now = datetime.now(UTC)
        # Cards the drill may show now: due, and under the user's daily review limit (counted
        # conservatively over the last 24 hours: earlier runs' ratings stay in a PostgreSQL dataset).
        available = {}
        for user_id, email, slug, _questions in raters:
            due = db.session.scalar(
                db.select(db.func.count(CardState.id))
                .join(Question, Question.id == CardState.question_id)
                .join(QuestionSet, Question.set_id == QuestionSet.id)
                .join(Role, QuestionSet.role_id == Role.id)
                .where(CardState.user_id == user_id, Role.slug == slug, CardState.due <= now)
            )
            recent = db.session.scalar(
                db.select(db.func.count(Review.id)).where(
                    Review.user_id == user_id, Review.reviewed_at >= now - timedelta(days=1)
                )
            )
            limit = db.session.scalar(db.select(User.max_reviews_per_day).where(User.id == user_id))
            available[email] = min(due, limit - recent)
        drill = max(raters, key=lambda r: available[r[1]])
        if available[drill[1]] <= 0:
            raise RuntimeError(
                "no rating user has a card it may review now (due, and under its daily review limit), "
                "so the drill would show its 'done' card: a fresh bench/seed_large.py dataset has due "
                "cards a few minutes after it is built"
            )
        plain_raters = []
        for i in PLAIN_USERS:
            user_id = db.session.scalar(db.select(User.id).filter_by(email=f"user{i}@example.com"))
            questions = db.session.scalars(
                db.select(CardState.question_id)
                .where(CardState.user_id == user_id)
                .order_by(CardState.question_id)
                .limit(CARDS_PER_USER)
            ).all()
            if user_id is None or not questions:
                raise RuntimeError(f"user{i}@example.com is missing or has no cards: rebuild the dataset")
            plain_raters.append((user_id, list(questions)))
        return Dataset(
            url=database_url,
            dialect=dialect,
            server_version=str(server),
            reviews=db.session.scalar(db.select(db.func.count(Review.id))),
            heavy_reviews=db.session.scalar(db.select(db.func.count(Review.id)).filter_by(user_id=heavy)),
            users=db.session.scalar(db.select(db.func.count(User.id))),
            questions=db.session.scalar(db.select(db.func.count(Question.id))),
            drill_slug=drill[2],
            drill_email=drill[1],
            drill_user=drill[0],
            raters=raters,
            plain_raters=plain_raters,
        )


def count_recorded(database_url: str, nonces: list[str], settle_for: float = 20.0) -> int:
    """How many of these review tokens were recorded, once ratings still in flight have committed."""
    from careerprep.extensions import db
    from careerprep.models import Review

    with app_context(database_url):

        def count() -> int:
            return sum(
                db.session.scalar(
                    db.select(db.func.count(Review.id)).where(Review.token.in_(nonces[i : i + 5000]))
                )
                for i in range(0, len(nonces), 5000)
            )

        seen, until = -1, time.monotonic() + settle_for
        while time.monotonic() < until:  # a rating waiting for the SQLite write lock may take seconds
            now = count()
            if now == seen:
                return now
            seen = now
            db.session.rollback()
            time.sleep(1)
        return seen


def rating_requests(database_url: str, data: Dataset, count: int) -> list[tuple[int, str, str, str]]:
    """`count` rating POSTs with fresh one-time tokens: (rater index, path, form body, token nonce).

    Consecutive requests go to different users and cards, so concurrent ratings rarely share a card.
    """
    from careerprep.extensions import db
    from careerprep.models import CardState, utc_now
    from careerprep.practice.rating import issue_token, read_token

    ratings = [rating for rating, weight in RATING_WEIGHTS for _ in range(weight)]
    out = []
    with app_context(database_url):
        now = utc_now()
        # A token carries the card's version (its review count) when shown, and a rating with an older
        # one is refused as stale: the n-th token for a card carries the version n-1 ratings after now.
        reps = {
            (user_id, question_id): n
            for user_id, question_id, n in db.session.execute(
                db.select(CardState.user_id, CardState.question_id, CardState.reps).where(
                    CardState.user_id.in_([r[0] for r in data.raters])
                )
            )
        }
        for n in range(count):
            rater = n % len(data.raters)
            user_id, _email, slug, questions = data.raters[rater]
            question = questions[(n // len(data.raters)) % len(questions)]
            user = SimpleNamespace(id=user_id)
            version = reps.get((user_id, question), 0)
            reps[(user_id, question)] = version + 1
            token = issue_token(user, SimpleNamespace(id=question), now, SimpleNamespace(reps=version))
            body = urlencode({"token": token, "rating": ratings[n % len(ratings)]})
            out.append((rater, f"/roles/{slug}/drill", body, read_token(token, user).nonce))
    return out


def verify_reviews(database_url: str) -> str:
    """The last line of `flask verify-reviews` for this database."""
    run = subprocess.run(
        [PYTHON, "-m", "flask", "--app", "app", "verify-reviews"],
        cwd=ROOT,
        env=app_environment(database_url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = (run.stdout.strip() or run.stderr.strip() or "(no output)").splitlines()
    return f"{lines[-1]} (exit {run.returncode})"


# -- the servers ------------------------------------------------------------------------------------


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = REQUEST_TIMEOUT):
    """One plain HTTP request to 127.0.0.1: (status, headers, body)."""
    return send(port, "GET", path, headers or {}, None, timeout)


def send(port: int, method: str, path: str, headers: dict[str, str], body: str | None, timeout: float):
    """One HTTP request to 127.0.0.1 on a fresh connection: (status, headers, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # the gunicorn master; its workers are its children
    pg_database: str = ""  # the PostgreSQL database it uses (its backends count as ours)


class CpuMeter:
    """How much CPU processes other than ours took during a measurement.

    Ours: gunicorn and its workers, the PostgreSQL backends serving the benchmark database, wrk and
    this script. Other engineers' test runs share this machine; their share is reported with every
    figure (a share of the whole machine, 0-100).
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.start = self._sample()

    @staticmethod
    def _ticks(pid: int) -> int:
        """utime + stime of one process, in clock ticks (0 once it has gone)."""
        try:
            return sum(map(int, Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]))
        except (OSError, ValueError):
            return 0

    def _ours(self) -> dict[int, int]:
        """Clock ticks so far of each of our server processes."""
        pids, todo = [], [self.server.pid]
        for _ in range(1000):  # the gunicorn tree: master, workers (and anything they start)
            if not todo:
                break
            pid = todo.pop()
            pids.append(pid)
            with contextlib.suppress(OSError):
                todo += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        if self.server.pg_database:
            # Backends show "postgres: <cluster>: <user> <database> <client> <state>" as their title.
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    with contextlib.suppress(OSError):
                        title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                        if title.startswith("postgres:") and f" {self.server.pg_database} " in title:
                            pids.append(int(entry.name))
        return {pid: self._ticks(pid) for pid in pids}

    def _sample(self) -> tuple[int, int, float, dict[int, int]]:
        """(machine busy ticks, machine total ticks, this script's and wrk's ticks, server ticks)."""
        # user nice system idle iowait irq softirq steal (guest time is already in user and nice)
        cpu = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        busy = sum(cpu) - cpu[3] - cpu[4]  # everything but idle and iowait
        own = resource.getrusage(resource.RUSAGE_SELF)
        waited = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has exited
        seconds = own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime
        return busy, sum(cpu), seconds * os.sysconf("SC_CLK_TCK"), self._ours()

    def others(self) -> float:
        """Share of the whole machine (0-100) that other processes used since the start."""
        busy0, total0, self0, servers0 = self.start
        busy1, total1, self1, servers1 = self._sample()
        ours = self1 - self0 + sum(ticks - servers0.get(pid, 0) for pid, ticks in servers1.items())
        total = total1 - total0
        return max(0.0, (busy1 - busy0 - ours) / total * 100) if total else 0.0


@contextmanager
def gunicorn(app: str, health: str, database_url: str, workers: int, log_path: Path) -> Iterator[Server]:
    """Serve `app` with gunicorn.conf.py on a free port until the block ends; yield port and pid."""
    port = free_port()
    env = app_environment(database_url)
    env.update(BIND=f"{HOST}:{port}", WEB_CONCURRENCY=str(workers))
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", app],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only this script, which then stops gunicorn
        )
    try:
        until = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn ({app}) exited with code {server.returncode}; see {log_path}")
            try:
                if get(port, health, timeout=2)[0] == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > until:
                raise RuntimeError(f"{app} did not answer {health} within 30 s; see {log_path}")
            time.sleep(0.2)
        pg_database = urlsplit(database_url).path.lstrip("/") if database_url.startswith("postgres") else ""
        yield Server(port, server.pid, pg_database)
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


@dataclass
class Session:
    email: str
    cookie: str
    csrf: str

    def headers(self, htmx: bool = False, form: bool = False) -> dict[str, str]:
        """Headers that replay this session (as htmx, and with the CSRF header for a form POST)."""
        out = {"Cookie": self.cookie}
        if htmx:
            out["HX-Request"] = "true"
        if form:
            out.update({"X-CSRFToken": self.csrf, "Content-Type": "application/x-www-form-urlencoded"})
        return out


def sign_in(port: int, email: str) -> Session:
    """Sign in through the login form; return the session cookie and the CSRF token of that session."""
    jar: dict[str, str] = {}

    def keep(headers) -> None:
        for line in headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]

    def cookie() -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}

    status, headers, body = get(port, "/auth/login")
    keep(headers)
    match = CSRF_INPUT.search(body)
    if status != 200 or match is None:
        raise RuntimeError(f"login form: status {status}")
    form = urlencode({"email": email, "password": seed_large.PASSWORD, "csrf_token": html.unescape(match[1])})
    status, headers, _ = send(
        port,
        "POST",
        "/auth/login",
        {**cookie(), "Content-Type": "application/x-www-form-urlencoded"},
        form,
        REQUEST_TIMEOUT,
    )
    keep(headers)
    if status != 303:
        raise RuntimeError(f"sign-in as {email}: status {status} (rate-limited or wrong password?)")
    target = urlsplit(headers.get("Location", "/roles"))
    # Signing in renews the session, so the CSRF token comes from a page rendered after it.
    status, headers, body = get(port, target.path + (f"?{target.query}" if target.query else ""), cookie())
    keep(headers)
    found = HX_HEADERS.search(body)
    if status != 200 or found is None:
        raise RuntimeError(f"landing page after sign-in as {email}: status {status}")
    csrf = json.loads(html.unescape(found[1]))["X-CSRFToken"]
    return Session(email, cookie()["Cookie"], csrf)


# -- wrk ----------------------------------------------------------------------------------------------


def request_line(method: str, path: str, headers: dict[str, str], body: str | None = None) -> str:
    """One line of a requests file for the Lua script."""
    cells = [method, path, body or "-", f"User-Agent: {USER_AGENT}"]
    cells += [f"{name}: {value}" for name, value in headers.items()]
    if any("\t" in c or "\n" in c for c in cells):
        raise ValueError("a tab or newline in a request")
    return "\t".join(cells) + "\n"


def write_requests(path: Path, lines: list[str]) -> str:
    """The same requests for every wrk thread; returns the pattern to pass to the Lua script."""
    for t in range(WRK_THREADS):
        path.with_name(path.name.replace("%d", str(t))).write_text("".join(lines))
    return str(path)


def wrk(port: int, scenario: Scenario, connections: int, seconds: float, deadline: Deadline) -> dict:
    """Run wrk once for a scenario; return the Lua script's figures."""
    deadline.check(scenario.name)
    command = [
        WRK,
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}",
        "--",
        scenario.requests,
        "once" if scenario.once else "repeat",
        scenario.need,
        scenario.forbid,
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, cwd=BENCH)
    for line in run.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line.removeprefix("WRK_JSON "))
    raise RuntimeError(
        f"wrk gave no figures (exit {run.returncode}): {run.stderr.strip() or run.stdout[-500:]}"
    )


def settle(server: Server, seconds: float) -> None:
    """Wait (at most `seconds`) until other processes use under QUIET % of the CPU for a second."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        meter = CpuMeter(server)
        time.sleep(1)
        if meter.others() < QUIET:
            return


def quietest(
    server: Server, attempt: Callable[[], tuple[Result, list[str]]], opts: Options, deadline: Deadline
) -> tuple[Result, list[str]]:
    """Run a measurement up to 1 + --retries times while other processes disturb it; keep the quietest.

    Each attempt first waits for a quiet machine (--settle). Retries stop early when the deadline is
    less than ten minutes away.
    """
    best: tuple[Result, list[str]] | None = None
    for number in range(1, opts.retries + 2):
        settle(server, min(opts.settle, max(0.0, deadline.remaining() - 600)))
        result, notes = attempt()
        result.attempts = number
        if best is None or result.other_cpu < best[0].other_cpu:
            best = (result, notes)
        if result.other_cpu < QUIET or number > opts.retries or deadline.remaining() < 600:
            break
        print(f"  ({result.name}: other processes took {result.other_cpu:.0f}% of the CPU; measuring again)")
    return best


def measure(server: Server, scenario: Scenario, opts: Options, deadline: Deadline) -> Result:
    """Warm up, then measure one scenario; print its line."""
    if opts.warmup > 0 and not scenario.once:
        wrk(server.port, scenario, opts.connections, opts.warmup, deadline)
    meter = CpuMeter(server)
    figures = wrk(server.port, scenario, opts.connections, opts.duration, deadline)
    result = Result(
        other_cpu=meter.others(),
        name=scenario.name,
        describe=scenario.describe,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50"] / 1000,
        p95_ms=figures["p95"] / 1000,
        p99_ms=figures["p99"] / 1000,
        requests=figures["requests"],
        socket_errors=sum(figures[k] for k in ("connect", "read", "write", "timeout")),
        http_errors=figures["status"],
        unexpected=figures["unmarked"],
        reused=figures["reused"],
        marked=figures["marked"],
        codes={str(k): v for k, v in sorted(figures["codes"].items())},
    )
    print(
        f"  {result.name:<15} {result.rps:9.1f} req/s  p50 {result.p50_ms:6.1f}  p95 {result.p95_ms:6.1f}  "
        f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}  statuses {result.codes}  "
        f"other processes {result.other_cpu:.0f}% CPU",
        flush=True,
    )
    return result


def preflight(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None, need: str, forbid: str = "-"
) -> None:
    """Send a scenario's request once from Python: 200, with its marker, without the forbidden text."""
    status, _headers, text = send(port, method, path, headers, body, REQUEST_TIMEOUT)
    if status != 200 or need not in text or (forbid != "-" and forbid in text):
        snippet = " ".join(text[:200].split())
        raise RuntimeError(
            f"{method} {path}: status {status}, marker {need!r} missing or {forbid!r} present: {snippet!r}"
        )


# -- the run ------------------------------------------------------------------------------------------


def run_all(
    opts: Options, data: Dataset, workdir: Path, deadline: Deadline
) -> tuple[list[Result], list[str]]:
    """Measure hello, then every CareerPrep scenario; return results and notes."""
    log_path = workdir / "gunicorn.log"
    notes: list[str] = []
    results: list[Result] = []
    print(f"bench: {opts.workers} workers, {opts.connections} connections, {opts.duration:g} s per scenario")

    def run(
        server: Server,
        name: str,
        describe: str,
        path: str,
        headers: dict,
        need: str,
        forbid="-",
        posts: list[str] | None = None,
    ) -> None:
        method = "POST" if posts else "GET"
        preflight(server.port, method, path, headers, posts[0] if posts else None, need, forbid)
        lines = [request_line(method, path, headers, body) for body in posts or [None]]
        pattern = write_requests(workdir / f"{name.replace(' ', '-')}-%d.tsv", lines)
        scenario = Scenario(name, describe, pattern, need=need, forbid=forbid)
        result, _notes = quietest(
            server, lambda: (measure(server, scenario, opts, deadline), []), opts, deadline
        )
        results.append(result)

    with gunicorn("bench.baseline_app:app", "/hello", data.url, opts.workers, log_path) as server:
        run(server, "hello", "GET /hello (bare Flask)", "/hello", {}, "hello")
    plain = f"/plain/next?user={data.drill_user}"
    with gunicorn("bench.plain_app:app", plain, data.url, opts.workers, log_path) as server:
        describe = "GET /plain/next (plain Flask-SQLAlchemy: user get, next due card, Jinja)"
        run(server, "plain page", describe, plain, {}, QUESTION)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        ratings = [rating for rating, weight in RATING_WEIGHTS for _ in range(weight)]
        pairs = [
            (user_id, questions[i % len(questions)])
            for i in range(CARDS_PER_USER)
            for user_id, questions in data.plain_raters
        ]
        bodies = [
            urlencode({"user": user_id, "question": question, "rating": ratings[n % len(ratings)]})
            for n, (user_id, question) in enumerate(pairs)
        ]
        describe = f"POST /plain/rate (FSRS step, UPDATE, INSERT; {len(data.plain_raters)} other users)"
        run(server, "plain POST", describe, "/plain/rate", form, RATED, posts=bodies)
    with gunicorn("app:app", "/healthz", data.url, opts.workers, log_path) as server:
        raters = [sign_in(server.port, email) for _id, email, _slug, _q in data.raters]
        user = raters[[email for _id, email, _slug, _q in data.raters].index(data.drill_email)]
        heavy = sign_in(server.port, seed_large.HEAVY_EMAIL)
        drill = f"/roles/{data.drill_slug}/drill"
        fragment = user.headers(htmx=True)
        run(server, "healthz", "GET /healthz (CareerPrep, SELECT 1)", "/healthz", {}, '"ok"')
        describe = f"GET {drill} (HX-Request, a due card)"
        run(server, "drill fragment", describe, drill, fragment, QUESTION, FULL_PAGE)
        run(server, "drill page", f"GET {drill} (full page, a due card)", drill, user.headers(), QUESTION)
        run(server, "catalogue", "GET /roles (signed in)", "/roles", user.headers(), "Choose a role")
        shown = next(r for r in results if r.name == "drill fragment")
        result, rating_notes = rate(server, opts, data, raters, workdir, deadline, shown)
        results.append(result)
        notes += rating_notes
        describe = f"GET /dashboard (heavy@example.com, {data.heavy_reviews:,} reviews)"
        run(server, "dashboard", describe, "/dashboard", heavy.headers(), 'id="due-now"')
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    if tracebacks:
        notes.append(f"{tracebacks} tracebacks in the gunicorn log")
    for r in results:
        if r.attempts > 1:
            notes.append(f"{r.name}: measured {r.attempts} times (other processes busy); kept the quietest")
    busiest = max(results, key=lambda r: r.other_cpu)
    if busiest.other_cpu >= 5:
        notes.append(
            f"other processes on this machine used up to {busiest.other_cpu:.0f}% of its CPU during a "
            f"measurement ({busiest.name}): those figures are low by about that much"
        )
    return results, notes


def rate(
    server: Server,
    opts: Options,
    data: Dataset,
    sessions: list[Session],
    workdir: Path,
    deadline: Deadline,
    fragment: Result,
) -> tuple[Result, list[str]]:
    """The rating POST scenario: a fresh token for every request, and a count of what was recorded."""
    # Recording a rating does more work than showing a card: twice the fragment's rate is plenty.
    count = min(MAX_TOKENS, math.ceil(fragment.rps * opts.duration * 2) + 500)
    warm = min(MAX_TOKENS, math.ceil(fragment.rps * opts.warmup * 2) + 100) if opts.warmup > 0 else 0
    headers = [s.headers(htmx=True, form=True) for s in sessions]
    rater, path, body, _nonce = rating_requests(data.url, data, 1)[0]
    preflight(server.port, "POST", path, headers[rater], body, RATED, ALREADY)

    def files(name: str, prepared: list[tuple[int, str, str, str]]) -> str:
        lines = [request_line("POST", path, headers[rater], body) for rater, path, body, _ in prepared]
        pattern = workdir / f"{name}-%d.tsv"
        for t in range(WRK_THREADS):
            pattern.with_name(pattern.name.replace("%d", str(t))).write_text("".join(lines[t::WRK_THREADS]))
        return str(pattern)

    def attempt() -> tuple[Result, list[str]]:
        # A token carries the card's version, so the measured run's tokens are made only once the
        # warm-up's ratings have all committed: wrk stops the warm-up with part of its tokens unsent,
        # and tokens made beforehand for the same cards would carry versions one too high (409).
        if warm:
            warm_tokens = rating_requests(data.url, data, warm)
            warmup = Scenario(
                "rating warm-up",
                "",
                files("rate-warm", warm_tokens),
                once=True,
                need=RATED,
                forbid=ALREADY,
            )
            wrk(server.port, warmup, opts.connections, opts.warmup, deadline)
            count_recorded(data.url, [nonce for *_, nonce in warm_tokens])  # waits for those in flight
        started = time.perf_counter()
        prepared = rating_requests(data.url, data, count)
        notes = [f"{len(prepared):,} rating tokens prepared in {time.perf_counter() - started:.1f} s"]
        describe = f"POST /roles/<slug>/drill (HX-Request, {len(sessions)} users, one-time tokens)"
        rated_files = files("rate", prepared)
        scenario = Scenario("rating POST", describe, rated_files, once=True, need=RATED, forbid=ALREADY)
        result = measure(server, scenario, opts, deadline)
        recorded = count_recorded(data.url, [nonce for *_, nonce in prepared])
        rated = result.marked
        # wrk stops with up to one request per connection in flight: the server records those unseen.
        if rated <= recorded <= rated + opts.connections:
            notes.append(
                f"rating POST: {recorded:,} reviews recorded for {rated:,} 'Rated' responses "
                f"(+{recorded - rated} in flight when wrk stopped)"
            )
        else:
            notes.append(f"rating POST: {recorded:,} reviews recorded, but {rated:,} responses said 'Rated'")
            result.unexpected += max(rated - recorded, recorded - rated - opts.connections)
        return result, notes

    return quietest(server, attempt, opts, deadline)


# -- the report -------------------------------------------------------------------------------------


@dataclass
class Verdict:
    ratio: str  # requests/s as a share of hello's
    vs_plain: str  # requests/s as a multiple of the plain app's matching scenario
    ratio_target: str
    latency_target: str
    met: bool


def verdict(result: Result, results: list[Result]) -> Verdict:
    """One result against hello (the first result), the plain app and its targets."""
    hello = results[0]
    ratio = result.rps / hello.rps if hello.rps else 0.0
    target = TARGETS.get(result.name, Target())
    met = result.errors == 0
    ratio_target, latency_target, vs_plain = [], [], "-"
    if target.ratio is not None:
        ratio_target.append(f">= {target.ratio:.0%}")
        met = met and ratio >= target.ratio
    plain = next((r for r in results if r.name == target.plain), None)
    if plain is not None and plain.rps:
        ratio_target.append(f">= 1.0x {plain.name}")
        vs_plain = f"{result.rps / plain.rps:.2f}x"
        met = met and result.rps >= plain.rps
    if target.p50_ms is not None:
        latency_target.append(f"p50 <= {target.p50_ms:g} ms")
        met = met and result.p50_ms <= target.p50_ms
    if target.p99_ms is not None:
        latency_target.append(f"p99 <= {target.p99_ms:g} ms")
        met = met and result.p99_ms <= target.p99_ms
    return Verdict(
        f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}",
        vs_plain,
        ", ".join(ratio_target) or "-",
        ", ".join(latency_target) or "-",
        met,
    )


def error_text(result: Result) -> str:
    """Errors, with their kinds when there are any."""
    if not result.errors:
        return "0"
    kinds = [
        f"{n} {label}"
        for n, label in (
            (result.socket_errors, "socket"),
            (result.http_errors, "HTTP >= 400"),
            (result.unexpected, "unexpected"),
            (result.reused, "reused tokens"),
        )
        if n
    ]
    codes = ", ".join(f"{code}: {n}" for code, n in result.codes.items() if code != "200")
    return f"{result.errors} ({', '.join(kinds)}{'; ' + codes if codes else ''})"


def table(results: list[Result]) -> list[str]:
    """The results as a Markdown table (hello first: every ratio is to it)."""
    lines = [
        "| Scenario | Request | req/s | vs hello | vs plain | target | p50 ms | p95 ms | p99 ms "
        "| latency target | errors | meets targets | other CPU |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|--:|",
    ]
    for r in results:
        v = verdict(r, results)
        lines.append(
            f"| {r.name} | {r.describe} | {r.rps:,.0f} | {v.ratio} | {v.vs_plain} | {v.ratio_target} "
            f"| {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {v.latency_target} | {error_text(r)} "
            f"| {'yes' if v.met else '**no**'} | {r.other_cpu:.0f}% |"
        )
    return lines


def machine() -> dict[str, str]:
    """CPU model, cores, memory and kernel of this machine, and the wrk version."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    banner = subprocess.run([WRK, "-v"], capture_output=True, text=True, timeout=10).stdout
    wrk_version = banner.split(" [", 1)[0]
    return {
        "CPU": model[1].strip() if model else platform.processor() or "unknown",
        "cores": str(os.cpu_count()),
        "memory": f"{int(meminfo[1]) / 2**20:.1f} GiB" if meminfo else "unknown",
        "kernel": f"{platform.system()} {platform.release()}",
        "load generator": f"{wrk_version.strip()}, {WRK_THREADS} threads, on the same machine",
    }


def versions() -> dict[str, str]:
    """Versions of what serves the pages."""
    return {
        "Python": platform.python_version(),
        "Flask": version("flask"),
        "Werkzeug": version("werkzeug"),
        "SQLAlchemy": version("sqlalchemy"),
        "gunicorn": version("gunicorn"),
        "psycopg": version("psycopg"),
        "SQLite (Python's sqlite3)": sqlite3.sqlite_version,
    }


DIALECTS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CHANGES_HEADING = "## What we changed and what it bought"
CHANGES_PLACEHOLDER = (
    "_To fill in: each change, the scenario it moved and its figures before and after "
    "(req/s, vs hello, p99)._"
)
DATA_MARK = "<!-- http_bench data (kept so a run of one database keeps the other's figures):"


def write_results(path: Path, run: dict) -> None:
    """Rewrite RESULTS.md with this run's database section; keep the other's and the hand-written part."""
    runs: dict[str, dict] = {}
    changes = CHANGES_PLACEHOLDER
    if path.exists():
        old = path.read_text()
        if DATA_MARK in old:
            runs = json.loads(old.split(DATA_MARK, 1)[1].rsplit("-->", 1)[0])
        # Everything hand-written from this heading to the data block (the changes, the profile) stays.
        section = re.search(rf"^{re.escape(CHANGES_HEADING)}\n(.*?)(?=^<!-- |\Z)", old, re.S | re.M)
        if section and section[1].strip():
            changes = section[1].strip()
    runs[run["dialect"]] = run
    latest = max(runs.values(), key=lambda r: r["when"])
    lines = [
        "# HTTP benchmark results",
        "",
        "Written by `bench/http_bench.py` (see its docstring for what each scenario does); datasets from",
        "`bench/seed_large.py`. Ratios compare requests/s with the bare Flask `hello` measured in the same",
        "run, on the same gunicorn settings. wrk runs on the same machine and takes CPU from gunicorn,",
        "so compare ratios, not absolute figures across machines. Errors are socket errors, timeouts,",
        "HTTP statuses >= 400, any status other than 200, and bodies without their scenario's marker.",
        '"other CPU" is the share of the machine that processes other than ours (gunicorn, its PostgreSQL',
        "backends, wrk) used during the measurement, such as other engineers' test runs: a scenario's req/s",
        "is low by about that much. CareerPrep's JSON request log is off (`LOG_REQUESTS=0`); in-process it",
        "costs about 0.05-0.1 ms a request: some 10% of healthz, 1-2% of a drill fragment.",
        "",
        "## Machine",
        "",
        *(f"- {k}: {v}" for k, v in latest["machine"].items()),
        "",
        "## Versions",
        "",
        *(f"- {k}: {v}" for k, v in latest["versions"].items()),
        *(
            f"- {DIALECTS[d]} server: {r['server_version']}"
            for d, r in sorted(runs.items())
            if d == "postgresql"
        ),
        "",
        "## Targets",
        "",
        TARGETS_TEXT,
        "",
    ]
    for dialect in sorted(runs, key=lambda d: list(DIALECTS).index(d) if d in DIALECTS else 9):
        r = runs[dialect]
        results = [Result(**x) for x in r["results"]]
        lines += [
            f"## {DIALECTS.get(dialect, dialect)}",
            "",
            f"Run {r['when']}: {r['settings']}.",
            f"Dataset: {r['dataset']}.",
            "",
            *table(results),
            "",
            *(f"- {note}" for note in r["notes"]),
            "",
        ]
    lines += [CHANGES_HEADING, "", changes, "", DATA_MARK, json.dumps(runs, indent=1), "-->", ""]
    path.write_text("\n".join(lines))


def print_table(results: list[Result]) -> None:
    """The results on the terminal."""
    print(f"\n{'scenario':<16}{'req/s':>9}{'vs hello':>9}{'vs plain':>9}{'p50':>8}{'p95':>8}{'p99':>8}")
    for r in results:
        v = verdict(r, results)
        print(
            f"{r.name:<16}{r.rps:9.1f}{v.ratio:>9}{v.vs_plain:>9}{r.p50_ms:8.1f}{r.p95_ms:8.1f}{r.p99_ms:8.1f}"
            f"  {'ok    ' if v.met else 'MISSED'} (targets: {v.ratio_target}; {v.latency_target})"
            f"  errors {error_text(r)}, other processes {r.other_cpu:.0f}% CPU"
        )


# -- main ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Options:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help=f"default: a copy of {seed_large.DEFAULT_PATH}")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="build a small dataset first (a temporary SQLite file, or --database-url, whose tables are "
        "dropped) and run 3 s per scenario",
    )
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per scenario (default 10, quick 3)"
    )
    parser.add_argument(
        "--warmup", type=float, default=None, help="warm-up seconds per scenario (default 2, quick 1)"
    )
    parser.add_argument("--output", type=Path, default=None, help=f"Markdown to update (default {RESULTS})")
    parser.add_argument("--deadline", type=float, default=1800.0, help="stop everything after this (s)")
    parser.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="before each scenario, wait up to this long (s) for other processes to use under 10%% CPU",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="measure a scenario again (keeping the quietest) when other processes took 10%% CPU or more",
    )
    args = parser.parse_args(argv)
    if args.workers < 1 or args.connections < WRK_THREADS:
        parser.error(f"--workers must be at least 1 and --connections at least {WRK_THREADS}")
    duration = args.duration if args.duration is not None else (3.0 if args.quick else 10.0)
    warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    if not 1 <= duration <= 600 or not 0 <= warmup <= 60:
        parser.error("--duration must be 1 to 600 s and --warmup 0 to 60 s")
    output = args.output if args.output is not None else (None if args.quick else RESULTS)
    if not 0 <= args.settle <= 600 or not 0 <= args.retries <= 10:
        parser.error("--settle must be 0 to 600 s and --retries 0 to 10")
    return Options(
        args.database_url,
        args.quick,
        args.workers,
        args.connections,
        duration,
        warmup,
        output,
        args.deadline,
        args.settle,
        args.retries,
    )


def prepare(opts: Options, workdir: Path) -> str:
    """The database to serve: a fresh quick dataset, a copy of the large SQLite file, or the given URL."""
    if opts.quick:
        url = opts.database_url or seed_large.sqlite_url(workdir / "quick.sqlite")
        print("building the quick dataset:")
        seed_large.build(url, seed_large.QUICK, verify=200)
        return url
    if opts.database_url:
        return opts.database_url
    source = seed_large.DEFAULT_PATH
    if not source.exists():
        raise RuntimeError(f"{source} does not exist: build it with bench/seed_large.py (or use --quick)")
    # The seed file stays untouched (ratings write), so every run starts from the same data.
    target = workdir / source.name
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return seed_large.sqlite_url(target)


def main(argv: list[str] | None = None) -> int:
    """Prepare the data, serve, measure, report; 0 when no scenario had errors, 1 otherwise, 2 on failure."""
    opts = parse_args(argv)
    deadline = Deadline(opts.deadline)
    workdir = Path(tempfile.mkdtemp(prefix="careerprep-http-"))
    ok = False
    try:
        url = prepare(opts, workdir)
        data = inspect_dataset(url)
        dataset = (
            f"{data.questions:,} questions, {data.users:,} users, {data.reviews:,} reviews "
            f"({data.heavy_reviews:,} for heavy@example.com)"
        )
        print(f"database: {data.dialect} {data.server_version}; {dataset}")
        results, notes = run_all(opts, data, workdir, deadline)
        if opts.quick and data.dialect == "sqlite":
            notes.append(f"verify-reviews after the run: {verify_reviews(url)}")
        print_table(results)
        for note in notes:
            print(f"- {note}")
        settings = (
            f"{opts.workers} gunicorn sync workers, {opts.connections} connections, "
            f"{WRK_THREADS} wrk threads, "
            f"{opts.duration:g} s per scenario after a {opts.warmup:g} s warm-up"
        )
        run = {
            "dialect": data.dialect,
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "settings": settings,
            "dataset": dataset + (" (quick)" if opts.quick else ""),
            "server_version": data.server_version,
            "machine": machine(),
            "versions": versions(),
            "results": [asdict(r) for r in results],
            "notes": notes,
        }
        if opts.output is not None:
            write_results(opts.output, run)
            print(f"wrote {opts.output}")
        ok = all(r.errors == 0 for r in results)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        log = workdir / "gunicorn.log"
        if log.exists():
            print("".join(log.read_text(errors="replace").splitlines(True)[-20:]), file=sys.stderr)
        print(f"files kept in {workdir}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; gunicorn stopped; files kept in {workdir}", file=sys.stderr)
        return 130
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
