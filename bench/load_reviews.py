"""Load test for the drill: under concurrency no review is ever lost or recorded twice.

What it does:

1. Prepares a database with the app itself (schema, bundled banks, K users ``bench{i}@example.com``).
2. Starts gunicorn (``gunicorn.conf.py``, W sync workers) on a free port on 127.0.0.1.
3. Runs K simulated users on C client threads. Each signs in, then drills: fetch the next card
   (htmx fragment), reveal it, and POST a rating, M times. Every rating POST is sent D times at once
   with the same one-time token (a barrier releases them together) to simulate double submits;
   exactly one of them must record. Ratings are mostly Good/Easy with some Again and Hard.
4. Stops gunicorn, then counts in the database: Review rows against K*M, and for every card its
   ``reps`` against its Review rows. Runs ``flask verify-reviews`` too when the app has it.

It passes with no 5xx, exactly K*M Review rows, every card's reps equal to its rows, and every rating
answered "Rated" by exactly one of its D copies (the others "Already recorded"): the last check
catches a lost review and a duplicated one that would cancel out in the row count.

Running out of cards: a role introduces 10 new cards per user per day, and cards rated Again or in
their first learning step come back within the learn-ahead window. A user drills one role until it
answers "Done for now", then moves to the next of the seven roles, so M up to ~70 needs nothing else.

It prints figures (throughput, p50/p95/p99 latency, errors, lost and duplicated reviews) and ends
with ``RESULT: PASS`` or ``RESULT: FAIL ...`` (exit code 1). It is a measurement, never a timed test.

SQLite (a fresh file in a temporary directory, kept when the run fails)::

    .venv/bin/python bench/load_reviews.py --users 4 --ratings 5
    .venv/bin/python bench/load_reviews.py                      # K=20, M=20, W=4, C=16, D=2

PostgreSQL (the given database's tables are dropped and recreated first)::

    .venv/bin/python bench/load_reviews.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Every loop is bounded by count and by a global deadline (--deadline, default 300 s), and the script
only ever connects to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
ROLES = (
    "software-systems-engineer",
    "backend-engineer",
    "sre-devops-engineer",
    "embedded-software-engineer",
    "data-engineer",
    "frontend-engineer",
    "engineering-manager",
)
PASSWORD = "bench-password-123"  # noqa: S105 (throwaway accounts in a throwaway database)
# Fixed so every gunicorn worker (and the in-process app) signs sessions and review tokens alike.
SECRET_KEY = "careerprep-bench-secret-key"  # noqa: S105
# A cheap hash keeps setup fast; the first sign-in rehashes it to the configured cost once.
BENCH_HASH_METHOD = "scrypt:1024:8:1"
# Mostly Good and Easy, with some Again (cards come back) and a little Hard.
RATING_WEIGHTS = {1: 15, 2: 5, 3: 50, 4: 30}
REQUEST_TIMEOUT = 30.0
MAX_ERRORS_SHOWN = 10

CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')
HX_HEADERS = re.compile(r"hx-headers='(\{[^']*\})'")
REVEAL_LINK = re.compile(r'<a id="reveal"[^>]*\bhref="([^"]+)"')
TOKEN_INPUT = re.compile(r'<input[^>]*\bname="token"[^>]*\bvalue="([^"]+)"')
CARD = '<section id="card"'
DONE = "Done for now"
RATED = 'data-announce="Rated '
ALREADY = 'data-announce="Already recorded. Next card."'


@dataclass
class Options:
    users: int
    ratings: int
    workers: int
    clients: int
    duplicates: int
    database_url: str | None
    deadline: float
    seed: int


@dataclass
class Reply:
    status: int  # 0 when no HTTP response arrived
    body: str
    location: str = ""


class Deadline:
    """A point in time every loop checks, plus a stop flag for Ctrl-C."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.stop = threading.Event()

    def remaining(self) -> float:
        """Seconds left (0 once passed or stopped)."""
        return 0.0 if self.stop.is_set() else max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline passed or the run was stopped."""
        return self.remaining() <= 0


@dataclass
class Stats:
    """Everything the clients observe, shared across threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    server_errors: int = 0
    other_errors: int = 0
    error_kinds: Counter = field(default_factory=Counter)
    errors_shown: list[str] = field(default_factory=list)
    ratings_sent: int = 0
    confirmed: int = 0  # rating groups where exactly one copy answered "Rated"
    unconfirmed: int = 0  # rating groups where no copy answered "Rated"
    double_confirmed: int = 0  # rating groups where more than one copy answered "Rated"
    already_replies: int = 0

    def sample(self, kind: str, status: int, seconds: float) -> None:
        """Record one request's latency and count 5xx."""
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if status >= 500:
                self.server_errors += 1

    def error(self, kind: str, detail: str) -> None:
        """Count a client-side error (connection failure, unexpected status or body)."""
        with self.lock:
            self.other_errors += 1
            self.error_kinds[kind] += 1
            if len(self.errors_shown) < MAX_ERRORS_SHOWN:
                self.errors_shown.append(f"{kind}: {detail}")

    def add(self, name: str, amount: int = 1) -> None:
        """Bump a named counter."""
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)


class Client:
    """One simulated user: a cookie jar and plain HTTP/1.1 requests to 127.0.0.1."""

    def __init__(self, port: int, stats: Stats, deadline: Deadline) -> None:
        self.port = port
        self.stats = stats
        self.deadline = deadline
        self.cookies: dict[str, str] = {}
        self.lock = threading.Lock()
        self.csrf = ""

    def request(
        self, kind: str, method: str, path: str, form: dict | None = None, htmx: bool = False
    ) -> Reply:
        """Send one request, keep its cookies and record its latency; status 0 on a failure."""
        timeout = min(REQUEST_TIMEOUT, self.deadline.remaining())
        if timeout <= 0:
            return Reply(0, "")
        headers = {"Host": f"{HOST}:{self.port}"}
        with self.lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            headers["HX-Request"] = "true"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if self.csrf:
                headers["X-CSRFToken"] = self.csrf
        started = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.stats.sample(kind, 0, time.perf_counter() - started)
            self.stats.error(kind, f"{method} {path}: {exc!r}")
            return Reply(0, "")
        finally:
            conn.close()
        self.stats.sample(kind, response.status, time.perf_counter() - started)
        self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
        return Reply(response.status, text, response.headers.get("Location", ""))

    def _keep_cookies(self, lines: list[str]) -> None:
        """Store (or drop) the cookies a response sets."""
        with self.lock:
            for line in lines:
                jar = SimpleCookie()
                jar.load(line)
                for name, morsel in jar.items():
                    if not morsel.value or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def expect(client: Client, kind: str, reply: Reply, status: int, marker: str | None = None) -> bool:
    """True if the reply has this status (and marker); otherwise count an error."""
    if reply.status == 0:
        return False  # already counted by Client.request
    if reply.status != status or (marker is not None and marker not in reply.body):
        snippet = " ".join(reply.body[:160].split())
        client.stats.error(kind, f"status {reply.status}, expected {status}: {snippet!r}")
        return False
    return True


def sign_in(client: Client, email: str) -> bool:
    """Sign in through the login form and pick up the CSRF token of the new session."""
    page = client.request("login-form", "GET", "/auth/login")
    match = CSRF_INPUT.search(page.body)
    if not expect(client, "login-form", page, 200) or match is None:
        return False
    form = {"email": email, "password": PASSWORD, "csrf_token": html.unescape(match.group(1))}
    reply = client.request("login", "POST", "/auth/login", form=form)
    if not expect(client, "login", reply, 303):
        return False
    # Signing in renews the session, so the CSRF token comes from a page rendered after it.
    target = urlsplit(reply.location)
    landing = client.request("landing", "GET", target.path + (f"?{target.query}" if target.query else ""))
    headers = HX_HEADERS.search(landing.body)
    if not expect(client, "landing", landing, 200) or headers is None:
        return False
    client.csrf = json.loads(html.unescape(headers.group(1)))["X-CSRFToken"]
    return True


def send_rating(client: Client, slug: str, token: str, rating: int, copies: int) -> list[Reply]:
    """POST one rating `copies` times at once with the same token; return every reply."""
    path = f"/roles/{slug}/drill"
    form = {"token": token, "rating": str(rating)}
    replies: list[Reply] = [Reply(0, "")] * copies
    barrier = threading.Barrier(copies)

    def send(index: int) -> None:
        # Send even if the barrier breaks: a late copy is still a double submit.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        replies[index] = client.request("rate", "POST", path, form=form, htmx=True)

    helpers = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(1, copies)]
    for thread in helpers:
        thread.start()
    send(0)
    for thread in helpers:
        thread.join(timeout=REQUEST_TIMEOUT + 15)
    return replies


def judge_rating(client: Client, replies: list[Reply]) -> None:
    """Check that exactly one copy of a rating recorded it and the others saw it recorded."""
    stats = client.stats
    stats.add("ratings_sent")
    rated = 0
    for reply in replies:
        if not expect(client, "rate", reply, 200, CARD):
            continue
        if RATED in reply.body:
            rated += 1
        elif ALREADY in reply.body:
            stats.add("already_replies")
        else:
            stats.error("rate", "200 without a 'Rated' or 'Already recorded' announcement")
    if rated == 1:
        stats.add("confirmed")
    elif rated == 0:
        stats.add("unconfirmed")
    else:
        stats.add("double_confirmed")


def run_user(index: int, port: int, opts: Options, stats: Stats, deadline: Deadline) -> None:
    """One user: sign in, then reveal and rate cards until M ratings, moving role when one runs dry."""
    client = Client(port, stats, deadline)
    rng = random.Random(opts.seed * 100_003 + index)
    if not sign_in(client, f"bench{index}@example.com"):
        return
    roles = list(ROLES)
    sent = failures = 0
    # Each pass either sends a rating, moves to another role or counts a failure, so this bounds the loop.
    for _step in range(opts.ratings + len(ROLES) + 10):
        if sent >= opts.ratings or deadline.expired():
            return
        if not roles:
            stats.error("drill", f"bench{index}: every role is done for now after {sent} ratings")
            return
        if failures >= 5:
            stats.error("drill", f"bench{index}: gave up after 5 failed steps")
            return
        slug = roles[0]
        front = client.request("drill", "GET", f"/roles/{slug}/drill", htmx=True)
        if not expect(client, "drill", front, 200, CARD):
            failures += 1
            continue
        reveal = REVEAL_LINK.search(front.body)
        if reveal is None:
            if DONE in front.body:
                roles.pop(0)
            else:
                stats.error("drill", "card fragment without a reveal link")
                failures += 1
            continue
        back = client.request("reveal", "GET", html.unescape(reveal.group(1)), htmx=True)
        token = TOKEN_INPUT.search(back.body)
        if not expect(client, "reveal", back, 200, CARD) or token is None:
            failures += 1
            continue
        rating = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        replies = send_rating(client, slug, html.unescape(token.group(1)), rating, opts.duplicates)
        judge_rating(client, replies)
        sent += 1


# -- the server and the database ----------------------------------------------------------------


def app_environment(database_url: str) -> dict[str, str]:
    """Environment shared by the in-process app, gunicorn and flask commands."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        RATELIMIT_STORAGE_URI="memory://",
        SESSION_COOKIE_SECURE="0",
    )
    return env


def make_app(database_url: str) -> Flask:
    """The app in-process, configured from the same environment gunicorn gets."""
    os.environ.update(app_environment(database_url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from careerprep import create_app

    return create_app()


def prepare_database(database_url: str, users: int) -> None:
    """Create the schema (dropping PostgreSQL tables first), load the banks and add the users."""
    from werkzeug.security import generate_password_hash

    from careerprep.banks import seed
    from careerprep.extensions import db
    from careerprep.models import User

    app = make_app(database_url)
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Fail rather than wait forever behind another session's lock on the shared database.
                conn.exec_driver_sql("SET lock_timeout = '30s'")
                db.metadata.drop_all(conn)
            db.metadata.create_all(conn)
        seed()
        password_hash = generate_password_hash(PASSWORD, method=BENCH_HASH_METHOD)
        db.session.add_all(
            User(email=f"bench{i}@example.com", display_name=f"Bench {i}", password_hash=password_hash)
            for i in range(users)
        )
        db.session.commit()
        db.engine.dispose()


def start_server(port: int, workers: int, database_url: str, log_path: Path) -> subprocess.Popen:
    """Start gunicorn in its own process group, logging to a file."""
    env = app_environment(database_url)
    env.update(BIND=f"{HOST}:{port}", WEB_CONCURRENCY=str(workers), GUNICORN_ACCESS_LOG="/dev/null")
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "app:app"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only this script, which then stops gunicorn itself
        )


def wait_healthy(port: int, server: subprocess.Popen, timeout: float = 30.0) -> None:
    """Poll /healthz until it answers 200; raise if gunicorn exits or the timeout passes."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {server.returncode} before becoming healthy")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"/healthz did not answer 200 within {timeout:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """Stop gunicorn gracefully, and kill its process group if it lingers."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@dataclass
class Tally:
    rows: int
    cards_mismatched: int
    users_off: int  # users whose Review rows differ from M
    examples: list[str]


def count_reviews(database_url: str, ratings: int) -> Tally:
    """Count Review rows, and cards and users whose counts disagree with what was sent."""
    from careerprep.extensions import db
    from careerprep.models import CardState, Review, User

    app = make_app(database_url)
    with app.app_context():
        rows = db.session.scalar(db.select(db.func.count(Review.id)))
        reviewed = {
            (user_id, question_id): count
            for user_id, question_id, count in db.session.execute(
                db.select(Review.user_id, Review.question_id, db.func.count(Review.id)).group_by(
                    Review.user_id, Review.question_id
                )
            )
        }
        reps = {
            (user_id, question_id): card_reps
            for user_id, question_id, card_reps in db.session.execute(
                db.select(CardState.user_id, CardState.question_id, CardState.reps)
            )
        }
        per_user = dict(
            db.session.execute(
                db.select(User.id, db.func.count(Review.id))
                .outerjoin(Review, Review.user_id == User.id)
                .group_by(User.id)
            ).all()
        )
        db.engine.dispose()
    examples = []
    mismatched = 0
    for key in sorted(reviewed.keys() | reps.keys()):
        if reviewed.get(key, 0) != reps.get(key, 0):
            mismatched += 1
            if len(examples) < MAX_ERRORS_SHOWN:
                examples.append(
                    f"user {key[0]} question {key[1]}: reps {reps.get(key)} vs {reviewed.get(key, 0)} reviews"
                )
    users_off = sum(1 for count in per_user.values() if count != ratings)
    return Tally(rows=rows, cards_mismatched=mismatched, users_off=users_off, examples=examples)


def verify_command(database_url: str) -> str | None:
    """The last line of `flask verify-reviews`, or None when the app has no such command."""
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    env = app_environment(database_url)
    try:
        listing = subprocess.run(
            [*flask, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        if not re.search(r"^\s+verify-reviews\b", listing.stdout, re.MULTILINE):
            return None
        run = subprocess.run(
            [*flask, "verify-reviews"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired as exc:
        return f"(timed out after {exc.timeout:.0f} s)"
    lines = (run.stdout.strip() or run.stderr.strip() or "(no output)").splitlines()
    return f"{lines[-1]} (exit {run.returncode})"


# -- the report ---------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of a list (0 for an empty one)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_line(values: list[float]) -> str:
    """p50/p95/p99 in milliseconds."""
    p50, p95, p99 = (percentile(values, p) * 1000 for p in (50, 95, 99))
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms (n={len(values)})"


def report(
    opts: Options,
    dialect: str,
    stats: Stats,
    elapsed: float,
    tally: Tally,
    tracebacks: int,
    verify: str | None,
) -> list[str]:
    """Print the figures; return the reasons for failure (empty on success)."""
    every = [v for values in stats.latencies.values() for v in values]
    rates = stats.latencies.get("rate", [])
    expected = opts.users * opts.ratings
    lost = max(0, expected - tally.rows)
    duplicated = max(0, tally.rows - expected)
    lines = [
        ("database", dialect),
        ("gunicorn workers", opts.workers),
        ("client threads", opts.clients),
        ("users", opts.users),
        ("ratings per user", opts.ratings),
        ("copies per rating", opts.duplicates),
        ("requests sent", len(every)),
        ("load phase", f"{elapsed:.1f} s"),
        ("requests/s", f"{len(every) / elapsed:.1f}" if elapsed else "-"),
        ("rating POSTs", latency_line(rates)),
        ("all requests", latency_line(every)),
        ("5xx responses", stats.server_errors),
        ("server tracebacks", f"{tracebacks} (in gunicorn.log)"),
        ("other errors", f"{stats.other_errors} {dict(stats.error_kinds) or ''}".rstrip()),
        ("confirmed once", stats.confirmed),
        ("confirmed by none", stats.unconfirmed),
        ("confirmed twice+", stats.double_confirmed),
        ("'Already recorded'", stats.already_replies),
        ("expected reviews", expected),
        ("rating groups sent", f"{stats.ratings_sent} of {expected}"),
        ("Review rows", tally.rows),
        ("lost", lost),
        ("duplicated", duplicated),
        ("cards reps != rows", tally.cards_mismatched),
        ("users rows != M", tally.users_off),
    ]
    if verify is not None:
        lines.append(("verify-reviews", verify))
    for label, value in lines:
        print(f"{label:>20}: {value}")
    for detail in stats.errors_shown + tally.examples:
        print(f"  - {detail}")
    reasons = []
    if stats.ratings_sent != expected:
        reasons.append(f"run incomplete: {stats.ratings_sent} of {expected} ratings sent")
    if stats.server_errors:
        reasons.append(f"{stats.server_errors} 5xx")
    if stats.unconfirmed or stats.double_confirmed:
        reasons.append(
            f"{stats.unconfirmed} ratings confirmed by no reply, {stats.double_confirmed} by several"
        )
    if tally.rows != expected:
        reasons.append(
            f"{tally.rows} Review rows, expected {expected} ({lost} lost, {duplicated} duplicated)"
        )
    if tally.cards_mismatched:
        reasons.append(f"{tally.cards_mismatched} cards whose reps != review rows")
    return reasons


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Options:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="simulated users (K)")
    parser.add_argument("--ratings", type=int, default=20, help="ratings per user (M)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (W)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads (C)")
    parser.add_argument("--duplicates", type=int, default=2, help="copies of each rating POST (D)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--deadline", type=float, default=300.0, help="stop everything after this (s)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the ratings chosen")
    args = parser.parse_args(argv)
    for name in ("users", "ratings", "workers", "clients", "duplicates"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return Options(**vars(args))


def run_load(opts: Options, port: int, deadline: Deadline) -> tuple[Stats, float]:
    """Run every user on the client pool; return what they saw and how long it took."""
    stats = Stats()
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=opts.clients, thread_name_prefix="user")
    try:
        futures: list[Future] = [
            pool.submit(run_user, i, port, opts, stats, deadline) for i in range(opts.users)
        ]
        done, pending = wait(futures, timeout=deadline.remaining())
        if pending:
            stats.error("deadline", f"{len(pending)} users unfinished when the deadline passed")
        for future in done:
            if future.exception() is not None:
                stats.error("crash", repr(future.exception()))
    finally:
        deadline.stop.set()  # unfinished users stop at their next request
        pool.shutdown(wait=True, cancel_futures=True)
    return stats, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Prepare, serve, load, count, report; 0 on PASS, 1 on FAIL."""
    opts = parse_args(argv)
    deadline = Deadline(opts.deadline)
    workdir = Path(tempfile.mkdtemp(prefix="careerprep-bench-"))
    database_url = opts.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    dialect = database_url.split(":", 1)[0].split("+", 1)[0]
    log_path = workdir / "gunicorn.log"
    passed = False
    try:
        prepare_database(database_url, opts.users)
        port = free_port()
        server = start_server(port, opts.workers, database_url, log_path)
        try:
            wait_healthy(port, server)
            stats, elapsed = run_load(opts, port, deadline)
        finally:
            stop_server(server)
        tally = count_reviews(database_url, opts.ratings)
        tracebacks = log_path.read_text(errors="replace").count("Traceback")
        reasons = report(opts, dialect, stats, elapsed, tally, tracebacks, verify_command(database_url))
        passed = not reasons
        print("RESULT: PASS" if passed else f"RESULT: FAIL {'; '.join(reasons)}")
        if not passed:
            print(f"kept for inspection: {workdir} (gunicorn.log{', bench.sqlite' * (dialect == 'sqlite')})")
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if log_path.exists():
            print("".join(log_path.read_text(errors="replace").splitlines(True)[-20:]), file=sys.stderr)
        print(f"RESULT: FAIL {exc}")
    except KeyboardInterrupt:
        print(f"interrupted; gunicorn stopped; files kept in {workdir}", file=sys.stderr)
        return 130
    finally:
        if passed:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
