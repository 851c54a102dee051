"""Time `flask import-questions` with a generated 2,000-question bank (the target is 3 s).

    .venv/bin/python bench/import_bank.py [--questions 2000] [--database-url URL]

Writes a YAML bank of one role with 20 sets (short generated prompts, answers and key points, kept
under the 1 MiB upload limit) to a temporary folder, migrates a fresh SQLite database there (or uses
the given URL, whose catalogue it adds to), and runs the command twice: the first run adds every
question, the second finds nothing to change. Prints the file size, each run's wall time, the time
the command needs just to start (`flask --help`), and the in-process time to parse and validate
the file. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(ROOT / ".venv" / "bin" / "flask")
WORDS = ("queue", "lock", "thread", "page", "cache", "socket", "driver", "buffer", "kernel", "signal")


def bank(questions: int, rng: random.Random) -> dict:
    """One role, 20 sets, `questions` questions in all."""

    def sentence(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."

    sets = []
    per_set = -(-questions // 20)
    for s in range(20):
        items = [
            {
                "key": f"q-{s}-{q}",
                "prompt": sentence(10)[:-1] + "?",
                "answer": " ".join(sentence(10) for _ in range(3)),
                "key_points": [sentence(3) for _ in range(3)],
                "category": f"Topic {s % 7}",
                "difficulty": rng.choice([1, 2, 3]),
                "tags": [],
            }
            for q in range(min(per_set, questions - s * per_set))
        ]
        if items:
            sets.append(
                {
                    "slug": f"bulk-set-{s}",
                    "title": f"Bulk set {s}",
                    "description": sentence(12),
                    "questions": items,
                }
            )
    return {"role": {"slug": "bulk-role", "title": "Bulk role", "summary": sentence(20)}, "sets": sets}


def timed(args: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--database-url")
    opts = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="careerprep-import-"))
    path = folder / "bulk.yaml"
    path.write_text(yaml.safe_dump(bank(opts.questions, random.Random(3)), sort_keys=False, width=100))
    print(f"file: {path.stat().st_size:,} bytes, {opts.questions:,} questions")
    env = dict(os.environ, DATABASE_URL=opts.database_url or f"sqlite:///{folder / 'import.sqlite'}")
    env.setdefault("SECRET_KEY", "bench-import-secret-key-0123456789")
    subprocess.run(
        [FLASK, "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, check=True
    )
    for label in ("import (adds every question)", "import again (nothing to change)"):
        seconds, done = timed([FLASK, "--app", "app", "import-questions", str(path)], env)
        last = (done.stdout.strip().splitlines() or [done.stderr.strip()])[0]
        print(f"{label}: {seconds:.2f} s, exit {done.returncode}: {last[:100]}")
    seconds, _ = timed([FLASK, "--app", "app", "--help"], env)
    print(f"the command starting up alone (flask --help): {seconds:.2f} s")
    sys.path.insert(0, str(ROOT))
    from careerprep.banks import formats  # noqa: E402 (after the subprocess runs: time only the parse)

    started = time.perf_counter()
    formats.load(path.read_bytes(), path.name)
    print(f"parse and validate in-process: {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
