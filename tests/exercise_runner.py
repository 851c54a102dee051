"""Compile and run the code in bank questions: what a "predict" snippet really prints, that a
"spot_bug" listing and its fixed version compile, that a "write_code" reference solution passes its tests.

Used by tests/test_content_code.py, and by authors from the command line:

    python -m tests.exercise_runner careerprep/banks/sse-exercises.yaml [KEY ...]

C is built with Debian's gcc (`-std=gnu11`), C++ with g++ (`-std=gnu++17`), shell runs under bash or
dash (`sh`). Snippets are written for x86-64 Linux with glibc.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

RUNS = 5  # each predict snippet runs this often: every output must be an accepted answer
TIMEOUT = 10
COMPILERS = {"c": ("gcc", "-std=gnu11", ".c"), "cpp": ("g++", "-std=gnu++17", ".cpp")}
SHELLS = {"bash": "bash", "sh": "sh"}
STRICT = ["-Wall", "-Wextra", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
# What AddressSanitizer, LeakSanitizer and UBSan print when they find something.
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class ExerciseFailure(Exception):
    """The code did not compile, run or pass as the bank says it does."""


@dataclass
class Built:
    """A compiled program, or a shell script with its interpreter."""

    argv: list[str]
    workdir: Path


def _compile(language: str, source: str, workdir: Path, flags: list[str], link: bool = True) -> Path:
    compiler, std, ext = COMPILERS[language]
    src = workdir / f"prog{ext}"
    src.write_text(source)
    out = workdir / ("prog" if link else "prog.o")
    cmd = [compiler, std, *flags, "-pthread", str(src), "-o", str(out)]
    if not link:
        cmd.insert(1, "-c")
    else:
        cmd.append("-lm")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ExerciseFailure(f"{' '.join(cmd[:-2])} failed:\n{done.stderr.strip()}")
    return out


def build(language: str, source: str, workdir: Path, flags: list[str] | None = None) -> Built:
    """Compile C/C++ into a program, or write a shell script; raise ExerciseFailure on errors."""
    if language in COMPILERS:
        return Built([str(_compile(language, source, workdir, flags or ["-O0", "-w"]))], workdir)
    if language in SHELLS:
        script = workdir / "prog.sh"
        script.write_text(source)
        return Built([SHELLS[language], str(script)], workdir)
    raise ExerciseFailure(f"cannot run language {language!r}")


def check_syntax(language: str, source: str, workdir: Path, strict: bool = False) -> None:
    """Compile without linking (C/C++), or parse (shell, Python)."""
    if language in COMPILERS:
        _compile(language, source, workdir, (STRICT if strict else ["-w"]) + ["-O1"], link=False)
    elif language in SHELLS:
        done = subprocess.run(
            [SHELLS[language], "-n"], input=source, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ExerciseFailure(f"{language} -n failed:\n{done.stderr.strip()}")
    elif language == "python":
        try:
            compile(source, "<snippet>", "exec")
        except SyntaxError as exc:
            raise ExerciseFailure(f"python syntax error: {exc}") from None
    elif language not in ("text", "console"):
        raise ExerciseFailure(f"cannot check language {language!r}")


def _run_tty(argv: list[str], cwd: Path, stdin: str) -> str:
    """Run with stdout on a pseudo-terminal (line-buffered stdio, as in an interactive shell)."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(  # noqa: S603 (our own compiled snippet)
        argv, cwd=cwd, stdin=subprocess.PIPE, stdout=terminal, stderr=subprocess.DEVNULL, close_fds=True
    )
    os.close(terminal)
    proc.stdin.write(stdin.encode())
    proc.stdin.close()
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([controller], [], [], TIMEOUT)
        if not ready:
            proc.kill()
            raise ExerciseFailure("timed out")
        try:
            data = os.read(controller, 4096)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=TIMEOUT)
    os.close(controller)
    return b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def run(built: Built, run_opts: dict | None = None) -> str:
    """What the program writes to stdout (and stderr when `stderr: true`), run as the bank says."""
    opts = run_opts or {}
    argv = built.argv + [str(a) for a in opts.get("args", [])]
    stdin = opts.get("stdin", "")
    if opts.get("stdout") == "tty":
        return _run_tty(argv, built.workdir, stdin)
    stderr = subprocess.STDOUT if opts.get("stderr") else subprocess.DEVNULL
    try:
        done = subprocess.run(  # noqa: S603 (our own compiled snippet)
            argv,
            cwd=built.workdir,
            input=stdin.encode(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExerciseFailure("timed out") from None
    return done.stdout.decode(errors="replace")


def predict_outputs(question: dict, runs: int = RUNS) -> list[str]:
    """Build a predict snippet and return what each of `runs` runs printed."""
    opts = question.get("run") or {}
    with tempfile.TemporaryDirectory() as tmp:
        flags = ["-O0", "-w", *opts.get("cflags", [])]
        built = build(question["language"], question["code"], Path(tmp), flags)
        return [run(built, opts) for _ in range(runs)]


def check_spot_bug(question: dict) -> None:
    """The listing compiles (warnings allowed: it has a bug) and the fixed version compiles cleanly."""
    with tempfile.TemporaryDirectory() as tmp:
        check_syntax(question["language"], question["code"], Path(tmp))
        check_syntax(question["language"], question["solution"], Path(tmp), strict=True)


def check_write_code(question: dict) -> str:
    """The reference solution and its tests compile with -Wall -Wextra -Werror and the tests pass.

    The test harness is appended to the solution (one translation unit) and built with AddressSanitizer
    and UBSan, so a memory error fails the test too. Returns what the tests printed.
    """
    language = question["language"]
    source = question["solution"].rstrip() + "\n\n" + question["tests"]
    with tempfile.TemporaryDirectory() as tmp:
        if language in COMPILERS:
            built = build(language, source, Path(tmp), STRICT + SANITIZE + ["-O1"])
        else:
            built = build(language, source, Path(tmp))
        try:
            done = subprocess.run(  # noqa: S603 (our own compiled solution)
                built.argv,
                cwd=built.workdir,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "halt_on_error=1"},
            )
        except subprocess.TimeoutExpired:
            raise ExerciseFailure("tests timed out") from None
        if done.returncode != 0:
            raise ExerciseFailure(f"tests failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
        if any(report in done.stderr for report in SANITIZER_REPORTS):
            raise ExerciseFailure(f"a sanitizer reported a problem:\n{done.stderr}")
        return done.stdout


def questions_in(path: Path) -> list[dict]:
    """Every question of a bank file, with its set slug."""
    data = yaml.safe_load(path.read_text())
    return [q for s in data["sets"] for q in s["questions"]]


def _main(argv: list[str]) -> int:
    """Check the code of every question (or the named keys) in a bank file; print what happened."""
    from careerprep.exercises import predict_matches

    path, keys = Path(argv[0]), set(argv[1:])
    failures = 0
    for q in questions_in(path):
        if keys and q["key"] not in keys:
            continue
        kind = q.get("kind", "recall")
        try:
            if kind == "predict":
                outputs = predict_outputs(q)
                bad = [o for o in outputs if not predict_matches(o, q)]
                if bad:
                    raise ExerciseFailure(f"printed {bad[0]!r}, not an accepted answer")
                print(f"ok   {q['key']}: prints {outputs[0]!r}")
            elif kind == "spot_bug":
                check_spot_bug(q)
                print(f"ok   {q['key']}: listing and fix compile")
            elif kind == "write_code":
                out = check_write_code(q)
                print(f"ok   {q['key']}: tests pass {out.strip()[-60:]!r}")
            elif q.get("code") and q.get("language") not in (None, "text", "console"):
                with tempfile.TemporaryDirectory() as tmp:
                    check_syntax(q["language"], q["code"], Path(tmp))
                print(f"ok   {q['key']}: code compiles")
        except ExerciseFailure as exc:
            failures += 1
            print(f"FAIL {q['key']}: {exc}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
