"""In-process timings of the drill fragment and the rating POST, beside the plain app (no HTTP, no wrk).

    .venv/bin/python bench/inprocess.py                       # bench/large.sqlite (a copy)
    .venv/bin/python bench/inprocess.py --database quick.sqlite --tree /tmp/old  # another careerprep
    .venv/bin/python bench/inprocess.py --profile fragment    # cProfile of the fragment GETs

Each request goes through the Flask test client with production settings (CSRF and limits on, the
same environment bench/http_bench.py gives gunicorn), signed in over the login form. Prints, per
scenario, the median, the 10th-90th percentile spread and the minimum in microseconds, and the drill
figures as a multiple of the plain app's (bench/plain_app.py) in the same process: "x plain" is the
plain request's median time over ours, so 1.0 means as fast. The rating POSTs spread over
user1..user8's cards with tokens issued from the database's current versions, exactly as http_bench
does. `--tree` imports careerprep from another checkout (e.g. `git archive` of an older commit), so
old and new code can be timed alternately on the same machine; the database is always a fresh copy.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')
HX_HEADERS = re.compile(r"hx-headers='(\{[^']*\})'")


def figures(samples: list[float]) -> dict:
    """Median, 10th and 90th percentiles and minimum, in microseconds."""
    s = sorted(samples)
    q = statistics.quantiles(s, n=10)
    return {"median": statistics.median(s) * 1e6, "p10": q[0] * 1e6, "p90": q[-1] * 1e6, "min": s[0] * 1e6}


def sign_in(client, email: str, password: str) -> dict:
    """Sign in through the login form; the headers an htmx request of that session sends."""
    from html import unescape

    page = client.get("/auth/login").get_data(as_text=True)
    token = unescape(CSRF_INPUT.search(page)[1])
    response = client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.status_code
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    csrf = json.loads(unescape(HX_HEADERS.search(landing)[1]))["X-CSRFToken"]
    return {"HX-Request": "true", "X-CSRFToken": csrf, "User-Agent": "careerprep-http-bench"}


def timed(call, count: int, profile: cProfile.Profile | None = None) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        call()
        if profile is not None:
            profile.disable()
        out.append(time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=ROOT / "bench" / "large.sqlite")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose careerprep is timed")
    parser.add_argument("--gets", type=int, default=400)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--profile", choices=("fragment", "rating"), default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.tree.resolve()))
    sys.path.insert(1, str(ROOT / "bench"))
    import http_bench
    import seed_large

    sys.path.insert(0, str(args.tree.resolve()))  # seed_large put this checkout first: the tree wins
    import careerprep

    assert Path(careerprep.__file__).resolve().is_relative_to(args.tree.resolve()), careerprep.__file__

    workdir = Path(tempfile.mkdtemp(prefix="careerprep-inprocess-"))
    try:
        target = workdir / "db.sqlite"
        with sqlite3.connect(args.database) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        url = seed_large.sqlite_url(target)
        data = http_bench.inspect_dataset(url)
        os.environ.update(http_bench.app_environment(url))
        import plain_app

        from careerprep import create_app

        app = create_app()
        client = app.test_client()
        headers = sign_in(client, data.drill_email, seed_large.PASSWORD)
        fragment_path = f"/roles/{data.drill_slug}/drill"
        body = client.get(fragment_path, headers=headers).get_data(as_text=True)
        assert http_bench.QUESTION in body, body[:300]
        plain = plain_app.app.test_client()
        plain_path = f"/plain/next?user={data.drill_user}"
        assert "Show answer" in plain.get(plain_path).get_data(as_text=True)
        profile = cProfile.Profile() if args.profile else None
        result = {"tree": str(args.tree)}
        # Alternate plain and ours in blocks, so a busy moment of the machine hits both.
        ours, theirs = [], []
        for _ in range(4):
            theirs += timed(lambda: plain.get(plain_path), args.gets // 4)
            ours += timed(
                lambda: client.get(fragment_path, headers=headers),
                args.gets // 4,
                profile if args.profile == "fragment" else None,
            )
        result["fragment"], result["plain page"] = figures(ours), figures(theirs)

        clients, rater_headers = [], []
        for _user_id, email, _slug, _questions in data.raters:
            c = app.test_client()
            rater_headers.append(sign_in(c, email, seed_large.PASSWORD))
            clients.append(c)
        prepared = http_bench.rating_requests(url, data, args.posts)
        ours, theirs, bad = [], [], 0
        plain_cards = [(u, q) for u, qs in data.plain_raters for q in qs]
        block = max(1, args.posts // 4)
        for start in range(0, args.posts, block):
            for n in range(start, min(start + block, args.posts)):
                user_id, question = plain_cards[n % len(plain_cards)]
                theirs += timed(
                    lambda u=user_id, q=question: plain.post(
                        "/plain/rate", data={"user": u, "question": q, "rating": 3}
                    ),
                    1,
                )
            for rater, path, form, _nonce in prepared[start : start + block]:
                box = []
                ours += timed(
                    lambda r=rater, p=path, f=form, box=box: box.append(
                        clients[r].post(
                            p,
                            data=f,
                            headers={**rater_headers[r], "Content-Type": "application/x-www-form-urlencoded"},
                        )
                    ),
                    1,
                    profile if args.profile == "rating" else None,
                )
                text = box[0].get_data(as_text=True)
                bad += box[0].status_code != 200 or http_bench.RATED not in text
        result["rating POST"], result["plain POST"] = figures(ours), figures(theirs)
        result["rating errors"] = bad
        if args.json:
            print(json.dumps(result))
        else:
            for name in ("fragment", "plain page", "rating POST", "plain POST"):
                f = result[name]
                print(
                    f"{name:<12} median {f['median']:8.0f} us  p10-p90 {f['p10']:7.0f}-{f['p90']:7.0f}  "
                    f"min {f['min']:7.0f}"
                )
            print(
                f"fragment {result['plain page']['median'] / result['fragment']['median']:.2f}x plain page; "
                f"rating POST {result['plain POST']['median'] / result['rating POST']['median']:.2f}x "
                f"plain POST; rating errors {bad}"
            )
        if profile is not None:
            out = workdir.parent / f"careerprep-{args.profile}.pstats"
            profile.dump_stats(out)
            pstats.Stats(str(out)).sort_stats("cumulative").print_stats(45)
            print(f"profile: {out}")
        return 1 if bad else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
