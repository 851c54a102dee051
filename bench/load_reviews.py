"""Load test for the drill: under concurrency no review is ever lost or recorded twice.

What it does:

1. Prepares a database with the app itself (schema, bundled banks, K users ``bench{i}@example.com``).
2. Starts gunicorn (``gunicorn.conf.py``, W sync workers) on a free port on 127.0.0.1.
3. Runs K simulated users on C client threads. Each signs in, then drills: fetch the next card
   (htmx fragment), reveal it as the card offers (the "Draft your answer" form, on by default, with
   a short draft typed in; or the "Show answer" link when the draft box is off, as for the last
   ``--draft-off`` users), and submit the card's rating form, M times. Every rating POST is sent
   D times at once with the same one-time token (a barrier releases them together) to simulate
   double submits; exactly one of them must record. Ratings are mostly Good/Easy with some Again
   and Hard.
4. Stops gunicorn, then counts in the database: Review rows against K*M (and per user against M),
   for every card its ``reps`` against its Review rows, and the reviews that kept their draft.
   Runs ``flask verify-reviews`` too when the app has it.

It passes with no 5xx, no other unexpected reply, exactly K*M Review rows (M per user), every card's
reps equal to its rows, every draft kept, verify-reviews finding no drift, and every rating answered
"Rated" by exactly one of its D copies and "Already recorded" by all the others: the last check
catches a lost review and a duplicated one that would cancel out in the row count. The D copies carry ONE
token, the one the card was shown with, so a copy refused as "already rated in another tab" (a
stale token from another tab) is a failure too: a repeat of the same token must say "Already
recorded".

Running out of cards: a role introduces 10 new cards per user per day, and cards rated Again or in
their first learning step come back within the learn-ahead window. A user drills one role until it
answers "Done for now", then moves to the next of the seven roles, so M up to ~70 needs nothing else.

It prints figures (throughput, p50/p95/p99 latency, errors, lost and duplicated reviews) and ends
with ``RESULT: PASS`` or ``RESULT: FAIL ...`` (exit code 1). It is a measurement, never a timed test;
``tests/test_load_reviews.py`` runs a short pass through ``run(Options(...))``, which returns a
``Result`` instead of printing.

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
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
# gunicorn and flask from the interpreter's own environment (.venv/bin when run as documented).
BIN = Path(sys.executable).parent
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
DONE = "Done for now"
# The card's announcement after a rating ("Leech: ... Rated Again. Next card." for a leech).
RATED = "Rated "
ALREADY = "Already recorded."
CARD = '<section id="card"'
# A rating refused because its card was rated since the token was issued (another tab).
STALE = "already rated in another tab"


@dataclass
class Options:
    """One run's settings; the defaults are the command line's."""

    users: int = 20
    ratings: int = 20
    workers: int = 4
    clients: int = 16
    duplicates: int = 2
    database_url: str | None = None
    deadline: float = 300.0
    seed: int = 1
    draft_off: int = 0  # the last N users turn the draft box off and reveal by the link
    workdir: Path | None = None  # None: a new temporary directory, removed after a PASS
    # PostgreSQL: drop and recreate the tables first. The test suite empties them itself.
    drop_tables: bool = True


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
    draft_reveals: int = 0  # cards revealed through the "Draft your answer" form
    answer_reveals: int = 0  # exercise cards (predict, spot_bug, ...) revealed by their answer form
    link_reveals: int = 0  # cards revealed through the "Show answer" link
    ratings_sent: int = 0
    confirmed: int = 0  # rating groups where exactly one copy answered "Rated"
    unconfirmed: int = 0  # rating groups where no copy answered "Rated"
    double_confirmed: int = 0  # rating groups where more than one copy answered "Rated"
    already_replies: int = 0
    stale_replies: int = 0  # copies refused as "already rated in another tab"
    drafted: int = 0  # ratings confirmed once whose card was revealed with a draft

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
        self,
        kind: str,
        method: str,
        path: str,
        form: dict | list[tuple[str, str]] | None = None,
        htmx: bool = False,
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
        client.stats.error(kind, f"status {reply.status}, expected {status}: {snippet(reply)!r}")
        return False
    return True


def snippet(reply: Reply) -> str:
    """The start of a reply's body on one line, for error messages."""
    return " ".join(reply.body[:160].split())


@dataclass
class Form:
    """A form in a card fragment: where it posts, its hidden fields in order, its text areas."""

    classes: list[str]
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    text_areas: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        """Every hidden value this form sends under `name`."""
        return [value for key, value in self.fields if key == name]


class Fragment(HTMLParser):
    """The drill card in a reply: its announcement, its forms and its "Show answer" link."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self.card = False  # the reply holds <section id="card">
        self.announce = ""
        self.forms: list[Form] = []
        self.reveal_link: str | None = None
        self._form: Form | None = None
        self.feed(body)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note the card, each form with its hidden fields and text areas, and the reveal link."""
        found = {name: value or "" for name, value in attrs}  # values come unescaped
        if tag == "section" and found.get("id") == "card" and not self.card:
            self.card = True
            self.announce = found.get("data-announce", "")
        elif tag == "form":
            self._form = Form(found.get("class", "").split(), found.get("action", ""))
            self.forms.append(self._form)
        elif tag == "input" and self._form and found.get("type") == "hidden" and "name" in found:
            self._form.fields.append((found["name"], found.get("value", "")))
        elif tag == "textarea" and self._form and "name" in found:
            self._form.text_areas.append(found["name"])
        elif tag == "a" and found.get("id") == "reveal":
            self.reveal_link = found.get("href")

    def handle_endtag(self, tag: str) -> None:
        """Close the current form."""
        if tag == "form":
            self._form = None

    def form(self, css_class: str) -> Form | None:
        """The first form with this class, if any."""
        return next((form for form in self.forms if css_class in form.classes), None)


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


@dataclass
class Back:
    """A revealed card: its rating form, and the draft typed before the reveal (None: no draft box)."""

    rating_form: Form
    draft: str | None


def reveal(client: Client, front: Fragment, draft: str) -> Back | None:
    """Reveal a card the way it offers: the draft form (typing `draft`), else the "Show answer" link.

    The answer side must come back with a rating form carrying the very token the front was shown
    with (and the draft typed); otherwise count an error and return None.
    """
    form = front.form("draft-form") or front.form("answer-form")
    if form is not None:
        shown = form.values("token")
        # An exercise's boxes (the output, the code, why) get the same text: any answer is checked.
        typed = [(name, draft) for name in form.text_areas]
        if "answer-design" in form.classes:  # a design card also asks for its estimate (unit: the bank's)
            typed.append(("estimate", "100"))
        reply = client.request("reveal", "POST", form.action, form=form.fields + typed, htmx=True)
        sent_draft = draft if "draft" in form.text_areas else ""
        counter = "draft_reveals" if "draft-form" in form.classes else "answer_reveals"
    else:
        link = front.reveal_link or ""
        shown = parse_qs(urlsplit(link).query).get("token", [])
        reply = client.request("reveal", "GET", link, htmx=True)
        sent_draft, counter = None, "link_reveals"
    if len(shown) != 1:
        client.stats.error("reveal", f"the card's front carries {len(shown)} tokens, expected one")
        return None
    if not expect(client, "reveal", reply, 200, CARD):
        return None
    back = Fragment(reply.body)
    rating_form = back.form("rating-form")
    if rating_form is None:
        client.stats.error("reveal", f"no rating form; the card says {back.announce!r}")
        return None
    if rating_form.values("token") != shown:
        client.stats.error("reveal", "the rating form does not carry the token the card was shown with")
        return None
    if sent_draft is not None and rating_form.values("draft") != [sent_draft]:
        client.stats.error("reveal", "the rating form does not carry the draft typed")
        return None
    client.stats.add(counter)
    return Back(rating_form, sent_draft)


def send_rating(client: Client, rating_form: Form, rating: int, copies: int) -> list[Reply]:
    """Submit the card's rating form `copies` times at once, identical (one token); return the replies."""
    form = [*rating_form.fields, ("rating", str(rating))]
    replies: list[Reply] = [Reply(0, "")] * copies
    barrier = threading.Barrier(copies)

    def send(index: int) -> None:
        # Send even if the barrier breaks: a late copy is still a double submit.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        replies[index] = client.request("rate", "POST", rating_form.action, form=form, htmx=True)

    helpers = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(1, copies)]
    for thread in helpers:
        thread.start()
    send(0)
    for thread in helpers:
        thread.join(timeout=REQUEST_TIMEOUT + 15)
    return replies


def judge_rating(client: Client, replies: list[Reply]) -> bool:
    """Check that one copy of a rating recorded it and all others saw it recorded; True if one did."""
    stats = client.stats
    stats.add("ratings_sent")
    rated = 0
    for reply in replies:
        if reply.status == 0:
            continue  # already counted by Client.request
        card = Fragment(reply.body) if reply.status == 200 else None
        if card is not None and card.card and ALREADY in card.announce:
            stats.add("already_replies")
        elif card is not None and card.card and RATED in card.announce:
            rated += 1
        elif STALE in reply.body:
            # Every copy carried the token the card was just shown with: none is stale.
            stats.add("stale_replies")
            stats.error("rate-stale", f"status {reply.status}, a copy refused as {STALE!r}")
        else:
            stats.error(
                "rate", f"status {reply.status}, not 'Rated' or 'Already recorded': {snippet(reply)!r}"
            )
    if rated == 1:
        stats.add("confirmed")
    elif rated == 0:
        stats.add("unconfirmed")
    else:
        stats.add("double_confirmed")
    return rated == 1


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
        reply = client.request("drill", "GET", f"/roles/{slug}/drill", htmx=True)
        if not expect(client, "drill", reply, 200, CARD):
            failures += 1
            continue
        front = Fragment(reply.body)
        if front.form("draft-form") is None and front.form("answer-form") is None and not front.reveal_link:
            if DONE in reply.body:
                roles.pop(0)
            else:
                stats.error("drill", "card fragment with neither a draft form nor a 'Show answer' link")
                failures += 1
            continue
        back = reveal(client, front, f"Draft {sent + 1} by bench{index}: lock the row, then write.")
        if back is None:
            failures += 1
            continue
        rating = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        if judge_rating(client, send_rating(client, back.rating_form, rating, opts.duplicates)) and (
            back.draft
        ):
            stats.add("drafted")
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


@contextlib.contextmanager
def app_context(database_url: str) -> Iterator[Flask]:
    """The app in-process, configured from the environment gunicorn gets, inside its app context.

    That environment is set only while the app is built, so a caller (the test suite) keeps its own.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from careerprep import create_app
    from careerprep.extensions import db

    wanted = app_environment(database_url)
    saved = {name: os.environ.get(name) for name in wanted if os.environ.get(name) != wanted[name]}
    os.environ.update({name: wanted[name] for name in saved})
    try:
        app = create_app()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()  # hand the session's connection back before closing the pool
            db.engine.dispose()


def prepare_database(database_url: str, users: int, draft_off: int = 0, drop_tables: bool = True) -> None:
    """Create the schema (dropping PostgreSQL tables first if asked), load the banks, add the users.

    The last `draft_off` users have the "Draft your answer" box off (it is on by default).
    """
    from werkzeug.security import generate_password_hash

    from careerprep.banks import seed
    from careerprep.extensions import db
    from careerprep.models import User

    with app_context(database_url):
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql" and drop_tables:
                # Fail rather than wait forever behind another session's lock on the shared database.
                conn.exec_driver_sql("SET lock_timeout = '30s'")
                db.metadata.drop_all(conn)
            db.metadata.create_all(conn)
        seed()
        password_hash = generate_password_hash(PASSWORD, method=BENCH_HASH_METHOD)
        db.session.add_all(
            User(
                email=f"bench{i}@example.com",
                display_name=f"Bench {i}",
                password_hash=password_hash,
                draft_enabled=i < users - draft_off,
            )
            for i in range(users)
        )
        db.session.commit()


def gunicorn_command() -> list[str]:
    """gunicorn with the project's settings, without the control socket every instance shares."""
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"]
    # gunicorn 27 opens ~/.gunicorn/gunicorn.ctl, one path for every instance on the machine.
    if int(metadata.version("gunicorn").split(".")[0]) >= 27:
        command.append("--no-control-socket")
    return [*command, "app:app"]


def start_server(port: int, workers: int, database_url: str, log_path: Path) -> subprocess.Popen:
    """Start gunicorn in its own process group, logging to a file."""
    env = app_environment(database_url)
    env.update(BIND=f"{HOST}:{port}", WEB_CONCURRENCY=str(workers), GUNICORN_ACCESS_LOG="/dev/null")
    with log_path.open("wb") as log:
        return subprocess.Popen(
            gunicorn_command(),
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
    """What the database holds after the run."""

    rows: int
    cards_mismatched: int
    users_off: int  # users whose Review rows differ from M
    drafts: int  # Review rows that kept a draft
    examples: list[str]


def count_reviews(database_url: str, ratings: int) -> Tally:
    """Count Review rows, and cards and users whose counts disagree with what was sent."""
    from careerprep.extensions import db
    from careerprep.models import CardState, Review, User

    with app_context(database_url):
        rows = db.session.scalar(db.select(db.func.count(Review.id)))
        drafts = db.session.scalar(db.select(db.func.count(Review.draft)))
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
    return Tally(rows, mismatched, users_off, drafts, examples)


def verify_command(database_url: str) -> tuple[str, int] | None:
    """The last line and exit code of `flask verify-reviews`, or None when the app has no such command."""
    flask = [str(BIN / "flask"), "--app", "app"]
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
        return f"(timed out after {exc.timeout:.0f} s)", -1
    lines = (run.stdout.strip() or run.stderr.strip() or "(no output)").splitlines()
    return lines[-1], run.returncode


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


@dataclass
class Result:
    """A run's verdict, what the clients saw, what the database holds, and the report as printed."""

    passed: bool
    reasons: list[str]  # why it failed (empty on a PASS)
    lines: list[str]  # the report, ending "RESULT: PASS" or "RESULT: FAIL ..."
    expected: int  # K * M
    stats: Stats
    tally: Tally | None = None  # None when the run stopped before counting
    server_started: bool = False

    @property
    def lost(self) -> int:
        """Reviews sent but not stored (counted against K * M)."""
        return max(0, self.expected - self.tally.rows) if self.tally else self.expected

    @property
    def duplicated(self) -> int:
        """Review rows beyond K * M."""
        return max(0, self.tally.rows - self.expected) if self.tally else 0


def figures(
    opts: Options,
    dialect: str,
    stats: Stats,
    elapsed: float,
    tally: Tally,
    tracebacks: int,
    verify: tuple[str, int] | None,
) -> list[str]:
    """The report's lines: settings, load, latency, errors, replies and what the database holds."""
    every = [v for values in stats.latencies.values() for v in values]
    expected = opts.users * opts.ratings
    pairs = [
        ("database", dialect),
        ("gunicorn workers", opts.workers),
        ("client threads", opts.clients),
        ("users", f"{opts.users} ({opts.draft_off} with the draft box off)"),
        ("ratings per user", opts.ratings),
        ("copies per rating", opts.duplicates),
        ("requests sent", len(every)),
        ("load phase", f"{elapsed:.1f} s"),
        ("requests/s", f"{len(every) / elapsed:.1f}" if elapsed else "-"),
        ("rating POSTs", latency_line(stats.latencies.get("rate", []))),
        ("all requests", latency_line(every)),
        ("5xx responses", stats.server_errors),
        ("server tracebacks", f"{tracebacks} (in gunicorn.log)"),
        ("other errors", f"{stats.other_errors} {dict(stats.error_kinds) or ''}".rstrip()),
        (
            "reveals",
            f"{stats.draft_reveals} by the draft form, {stats.answer_reveals} by an exercise's answer form,"
            f" {stats.link_reveals} by the link",
        ),
        ("confirmed once", stats.confirmed),
        ("confirmed by none", stats.unconfirmed),
        ("confirmed twice+", stats.double_confirmed),
        ("'Already recorded'", f"{stats.already_replies} of {stats.ratings_sent * (opts.duplicates - 1)}"),
        ("'another tab'", stats.stale_replies),
        ("expected reviews", expected),
        ("rating groups sent", f"{stats.ratings_sent} of {expected}"),
        ("Review rows", tally.rows),
        ("lost", max(0, expected - tally.rows)),
        ("duplicated", max(0, tally.rows - expected)),
        ("cards reps != rows", tally.cards_mismatched),
        ("users rows != M", tally.users_off),
        ("drafts kept", f"{tally.drafts} of {stats.drafted}"),
    ]
    if verify is not None:
        pairs.append(("verify-reviews", f"{verify[0]} (exit {verify[1]})"))
    lines = [f"{label:>20}: {value}" for label, value in pairs]
    return lines + [f"  - {detail}" for detail in stats.errors_shown + tally.examples]


def failures(opts: Options, stats: Stats, tally: Tally, verify: tuple[str, int] | None) -> list[str]:
    """The reasons the run fails (empty on success)."""
    expected = opts.users * opts.ratings
    reasons = []
    if stats.ratings_sent != expected:
        reasons.append(f"run incomplete: {stats.ratings_sent} of {expected} ratings sent")
    if stats.server_errors:
        reasons.append(f"{stats.server_errors} 5xx")
    if stats.stale_replies:
        reasons.append(
            f"{stats.stale_replies} copies refused as {STALE!r}, though each rating's copies carry one "
            "token: a repeat must answer 'Already recorded'"
        )
    if stats.other_errors > stats.stale_replies:
        reasons.append(f"{stats.other_errors - stats.stale_replies} unexpected replies or client errors")
    if stats.unconfirmed or stats.double_confirmed:
        reasons.append(
            f"{stats.unconfirmed} ratings confirmed by no reply, {stats.double_confirmed} by several"
        )
    already = stats.ratings_sent * (opts.duplicates - 1)
    if stats.already_replies != already:
        reasons.append(f"{stats.already_replies} 'Already recorded' replies, expected {already}")
    if tally.rows != expected:
        lost, duplicated = max(0, expected - tally.rows), max(0, tally.rows - expected)
        reasons.append(
            f"{tally.rows} Review rows, expected {expected} ({lost} lost, {duplicated} duplicated)"
        )
    if tally.users_off:
        reasons.append(f"{tally.users_off} users without exactly {opts.ratings} Review rows")
    if tally.cards_mismatched:
        reasons.append(f"{tally.cards_mismatched} cards whose reps != review rows")
    if tally.drafts != stats.drafted:
        reasons.append(f"{tally.drafts} reviews kept a draft, expected {stats.drafted}")
    if verify is not None and verify[1] != 0:
        reasons.append(f"verify-reviews: {verify[0]} (exit {verify[1]})")
    return reasons


# -- running ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Options:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=Options.users, help="simulated users (K)")
    parser.add_argument("--ratings", type=int, default=Options.ratings, help="ratings per user (M)")
    parser.add_argument("--workers", type=int, default=Options.workers, help="gunicorn workers (W)")
    parser.add_argument("--clients", type=int, default=Options.clients, help="concurrent client threads (C)")
    parser.add_argument(
        "--duplicates", type=int, default=Options.duplicates, help="copies of each rating POST (D)"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--deadline", type=float, default=Options.deadline, help="stop everything after this (s)"
    )
    parser.add_argument("--seed", type=int, default=Options.seed, help="seed for the ratings chosen")
    parser.add_argument(
        "--draft-off", type=int, default=Options.draft_off, help="users with the draft box off"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="for gunicorn.log and the SQLite file (kept)"
    )
    args = parser.parse_args(argv)
    for name in ("users", "ratings", "workers", "clients", "duplicates"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not 0 <= args.draft_off <= args.users:
        parser.error("--draft-off must be between 0 and --users")
    return Options(**vars(args))


def run_load(opts: Options, port: int, deadline: Deadline, stats: Stats) -> float:
    """Run every user on the client pool, recording into `stats`; return how long it took."""
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
    return time.perf_counter() - started


def run(opts: Options) -> Result:
    """Prepare, serve, load, count and judge; return the result and its report, printing nothing."""
    deadline = Deadline(opts.deadline)
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="careerprep-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = opts.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    dialect = database_url.split(":", 1)[0].split("+", 1)[0]
    log_path = workdir / "gunicorn.log"
    result = Result(False, [], [], opts.users * opts.ratings, Stats())
    kept = f"kept for inspection: {workdir} (gunicorn.log{', bench.sqlite' * (opts.database_url is None)})"
    try:
        prepare_database(database_url, opts.users, opts.draft_off, drop_tables=opts.drop_tables)
        port = free_port()
        server = start_server(port, opts.workers, database_url, log_path)
        try:
            wait_healthy(port, server)
            result.server_started = True
            elapsed = run_load(opts, port, deadline, result.stats)
        finally:
            stop_server(server)
        tally = result.tally = count_reviews(database_url, opts.ratings)
        tracebacks = log_path.read_text(errors="replace").count("Traceback")
        verify = verify_command(database_url)
    except RuntimeError as exc:
        log_tail = log_path.read_text(errors="replace").splitlines()[-20:] if log_path.exists() else []
        result.reasons = [str(exc)]
        result.lines = [f"error: {exc}", *log_tail, f"RESULT: FAIL {exc}", kept]
        return result
    except KeyboardInterrupt:
        print(f"interrupted; gunicorn stopped; files kept in {workdir}", file=sys.stderr)
        raise
    result.reasons = failures(opts, result.stats, tally, verify)
    result.passed = not result.reasons
    result.lines = figures(opts, dialect, result.stats, elapsed, tally, tracebacks, verify)
    if result.passed:
        result.lines.append("RESULT: PASS")
        if opts.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    else:
        result.lines += [f"RESULT: FAIL {'; '.join(result.reasons)}", kept]
    return result


def main(argv: list[str] | None = None) -> int:
    """Run from the command line and print the report; 0 on PASS, 1 on FAIL, 130 on Ctrl-C."""
    opts = parse_args(argv)
    try:
        result = run(opts)
    except KeyboardInterrupt:
        return 130
    print("\n".join(result.lines))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
