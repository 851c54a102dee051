"""The code in the bundled banks does what its cards say: every predict snippet prints one of its
accepted outputs on every run, every spot_bug listing compiles and its fix compiles cleanly
(-Wall -Wextra -Werror), and every write_code solution passes its tests under AddressSanitizer and
UBSan with no report.

Built and run by tests/exercise_runner.py, as authors do from the command line (gcc -std=gnu11 or
g++ -std=gnu++17, in temporary directories). The first test starts every build in a small thread pool,
so the module takes seconds rather than a minute; each question is its own test, named by its key.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from careerprep.banks import bundled_files, load_file
from careerprep.exercises import predict_matches
from tests import exercise_runner as runner

CHECKS = {
    "predict": lambda q: runner.predict_outputs(q, runs=runner.RUNS),
    "spot_bug": runner.check_spot_bug,
    "write_code": runner.check_write_code,
}


def _questions() -> dict[str, dict]:
    """Every bundled question whose code the tests build, by key."""
    found = {}
    for path in bundled_files():
        for qset in load_file(path)["sets"]:
            found.update({q["key"]: q for q in qset["questions"] if q.get("kind") in CHECKS})
    return found


QUESTIONS = _questions()


def _keys(kind: str) -> list[str]:
    return [key for key, q in QUESTIONS.items() if q["kind"] == kind]


@pytest.fixture(scope="module")
def built():
    """Key → the future of its check (predict: the outputs of every run), all started at once."""
    missing = [tool for tool in ("gcc", "g++", "bash") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the content tests compile the banks' code: install {', '.join(missing)}")
    # Compiling is CPU-bound; a few predict runs sleep (a timed wait), so one extra worker keeps busy.
    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) + 1) as pool:
        yield {key: pool.submit(CHECKS[q["kind"]], q) for key, q in QUESTIONS.items()}


def outcome(built: dict[str, Future], key: str):
    """What the check returned, or the test fails with the runner's message."""
    try:
        return built[key].result()
    except runner.ExerciseFailure as exc:
        pytest.fail(f"{key}: {exc}")


def test_the_banks_have_code_to_check():
    assert {q["kind"] for q in QUESTIONS.values()} == set(CHECKS)


@pytest.mark.parametrize("key", _keys("predict"))
def test_predict_snippet_prints_an_accepted_output_every_run(built, key):
    question = QUESTIONS[key]
    outputs = outcome(built, key)
    assert len(outputs) == runner.RUNS
    for output in outputs:
        assert predict_matches(output, question), (
            f"{key} printed {output!r}; accepted: {question['accepted']}"
        )


@pytest.mark.parametrize("key", _keys("spot_bug"))
def test_spot_bug_listing_compiles_and_its_fix_compiles_cleanly(built, key):
    outcome(built, key)


@pytest.mark.parametrize("key", _keys("write_code"))
def test_write_code_solution_passes_its_tests_under_the_sanitizers(built, key):
    outcome(built, key)
