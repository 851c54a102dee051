"""Measure the key-point detector on the hand-labelled set, split by question into tune and held-out parts.

Run: .venv/bin/python bench/keypoint_eval.py [--tune-only] [--no-terms] [--errors]

Everything comes from bench/keypoints/: the answers, labels and key-point texts from labelled.yaml, the
fixed split and each question's category from split.yaml, the author terms from terms.yaml. Nothing is
read from the live banks, so editing or merging bank questions cannot break or change the figures.
`load()` checks the set first (the checks are listed in bench/keypoints/README.md, "Validation").

Only the tune part chooses anything: the threshold is the one with the best tune accuracy among those
whose tune precision is at least 90% (ties to the higher threshold). The held-out part is only scored,
at that threshold. `--tune-only` prints the tune part alone (use it while developing, so the held-out
errors stay unread).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import sys
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from careerprep.feedback import keypoints as kp  # noqa: E402
from careerprep.feedback.text import strip_markdown, tokenize  # noqa: E402

HERE = ROOT / "bench" / "keypoints"
MIN_PRECISION = 0.9
PARTS = ("tune", "held-out")
QUALITIES = ("good", "paraphrase", "partial", "negation", "wrong", "off-topic")
MIN_WORDS, MAX_WORDS = 15, 200  # an answer's length in words
MIN_PAIRS, MIN_QUESTIONS = 300, 30  # the floor for the set
SEEN_BEFORE_SPLIT = "sse-proc-fork-exec"  # its answers were read before the split (README, "Terms")


@dataclass(frozen=True)
class Triple:
    """One labelled (answer, key point) pair with the detector's score."""

    answer_id: str
    question: str
    point_index: int
    point: str
    covered: bool
    score: float
    answer: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Dataset:
    """The labelled entries, the split (question -> category and part) and the author terms."""

    entries: list[dict]
    split: dict[str, dict]
    terms: dict[str, dict]

    def questions(self) -> dict[str, list[str]]:
        """Question key -> its key-point texts, in bank order (checked to agree across answers)."""
        out: dict[str, list[str]] = {}
        for entry in self.entries:
            texts = [p["point"] for p in entry["points"]]
            if out.setdefault(entry["question"], texts) != texts:
                raise ValueError(f"{entry['answer_id']}: key points differ from other answers")
        return out

    def role(self) -> kp.RoleWeights:
        """Word weights from the role's question texts (prompts and key points, never the answers)."""
        texts: dict[str, str] = {}
        for entry in self.entries:
            points = " ".join(p["point"] for p in entry["points"])
            texts.setdefault(entry["question"], f"{entry['prompt']}\n{points}")
        return kp.RoleWeights.from_texts(texts.values())

    def part(self, name: str) -> list[dict]:
        """The entries whose question sits in that part of the split."""
        return [e for e in self.entries if self.split[e["question"]]["part"] == name]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects a mapping with the same key twice (a silently lost label)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        if dupes := sorted({str(k) for k in keys if keys.count(k) > 1}):
            raise ValueError(f"duplicate YAML keys at line {node.start_mark.line + 1}: {dupes}")
        return super().construct_mapping(node, deep)


def _read(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe subclass)


def _check_entries(entries: list[dict]) -> None:
    """The checks the set's old check.py made, minus the banks: shape, labels, lengths and size."""
    for entry in entries:
        name = entry.get("answer_id", "?")
        if set(entry) != {"question", "prompt", "answer_id", "quality", "answer", "points"}:
            raise ValueError(f"{name}: fields must be question, prompt, answer_id, quality, answer, points")
        if not name.startswith(f"{entry['question']}/{entry['quality']}-"):
            raise ValueError(f"{name}: answer_id must be <question>/<quality>-<n>")
        if entry["quality"] not in QUALITIES:
            raise ValueError(f"{name}: quality must be one of {', '.join(QUALITIES)}")
        if not MIN_WORDS <= len(entry["answer"].split()) <= MAX_WORDS:
            raise ValueError(f"{name}: answers are {MIN_WORDS}-{MAX_WORDS} words long")
        if any(
            not isinstance(p.get("covered"), bool) or set(p) != {"point", "covered"} for p in entry["points"]
        ):
            raise ValueError(f"{name}: every point needs a point text and a boolean covered label")
    pairs = sum(len(e["points"]) for e in entries)
    questions = {e["question"] for e in entries}
    if pairs < MIN_PAIRS or len(questions) < MIN_QUESTIONS:
        raise ValueError(f"the set needs >= {MIN_PAIRS} pairs over >= {MIN_QUESTIONS} questions")


def load(folder: Path = HERE) -> Dataset:
    """Read and check the evaluation set; raise ValueError when it is inconsistent."""
    entries = _read(folder / "labelled.yaml")
    split = _read(folder / "split.yaml")
    terms = _read(folder / "terms.yaml") or {}
    _check_entries(entries)
    data = Dataset(entries, split, terms)
    questions = data.questions()
    if missing := sorted(set(questions) - set(split)):
        raise ValueError(f"questions missing from split.yaml: {missing}")
    if bad := sorted(k for k, v in split.items() if v.get("part") not in PARTS):
        raise ValueError(f"split.yaml parts must be tune or held-out: {bad}")
    if len(ids := [e["answer_id"] for e in entries]) != len(set(ids)):
        raise ValueError("answer ids are not unique")
    for question, points in terms.items():
        if question not in questions:
            raise ValueError(f"terms.yaml {question}: not a question of the set")
        if unknown := set(points) - set(questions[question]):
            raise ValueError(f"terms.yaml {question}: not a key point of the set: {sorted(unknown)}")
    return data


def key_points(data: Dataset, question: str, with_terms: bool = True) -> list[kp.KeyPoint]:
    """The question's key points as the drill would pass them, with or without the author terms."""
    specs = data.terms.get(question, {}) if with_terms else {}
    texts = data.questions()[question]
    return [kp.key_point({"text": text, **specs[text]} if text in specs else text) for text in texts]


def score(data: Dataset, entries: Sequence[dict], with_terms: bool = True) -> list[Triple]:
    """Every labelled (answer, key point) pair of the entries, with the detector's score."""
    out = []
    role = data.role()
    for entry in entries:
        points = key_points(data, entry["question"], with_terms)
        labels = [p["covered"] for p in entry["points"]]
        for i, det in enumerate(kp.detect(entry["answer"], points, role=role)):
            out.append(
                Triple(
                    entry["answer_id"],
                    entry["question"],
                    i,
                    points[i].text,
                    labels[i],
                    det.score,
                    entry["answer"],
                    det.spans,
                )
            )
    return out


def auc(triples: Sequence[Triple]) -> float:
    """Area under the ROC curve of the scores against the labels (ties count half)."""
    negatives = sorted(t.score for t in triples if not t.covered)
    positives = [t.score for t in triples if t.covered]
    if not positives or not negatives:
        return float("nan")
    wins = 0.0
    for s in positives:
        below, upto = bisect.bisect_left(negatives, s), bisect.bisect_right(negatives, s)
        wins += below + (upto - below) / 2
    return wins / (len(positives) * len(negatives))


def rates(triples: Sequence[Triple], threshold: float) -> dict[str, float]:
    """Precision, recall and accuracy of 'covered' at a threshold, with the confusion counts."""
    tp = sum(1 for t in triples if t.score >= threshold and t.covered)
    fp = sum(1 for t in triples if t.score >= threshold and not t.covered)
    fn = sum(1 for t in triples if t.score < threshold and t.covered)
    tn = len(triples) - tp - fp - fn
    return {
        "auc": auc(triples),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "accuracy": (tp + tn) / len(triples) if triples else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "n": len(triples),
    }


def choose_threshold(triples: Sequence[Triple]) -> float:
    """The threshold with the best accuracy among those with precision >= MIN_PRECISION."""
    scores = sorted({t.score for t in triples})
    candidates = [scores[0], *(round((a + b) / 2, 4) for a, b in itertools.pairwise(scores)), 1.0001]
    best: tuple | None = None
    for threshold in candidates:
        r = rates(triples, threshold)
        key = (r["precision"] >= MIN_PRECISION, r["accuracy"], threshold)
        if best is None or key > best:
            best = key
    return best[2]


def summary_line(name: str, r: dict[str, float]) -> str:
    """One line: AUC, precision, recall, accuracy and the confusion counts."""
    return (
        f"{name:<22} n={r['n']:4d}  AUC {r['auc']:.3f}  precision {r['precision']:6.1%}  "
        f"recall {r['recall']:6.1%}  accuracy {r['accuracy']:6.1%}  "
        f"(tp {r['tp']} fp {r['fp']} fn {r['fn']} tn {r['tn']})"
    )


def excerpt(t: Triple, width: int = 170) -> str:
    """The part of the answer the error is about: around the matched words, or its opening."""
    if t.spans:
        start = max(0, t.spans[0][0] - 50)
        end = min(len(t.answer), max(t.spans[-1][1], start + width))
        end = min(end, start + 2 * width)
    else:
        start, end = 0, width
    text = " ".join(t.answer[start:end].split())
    return ("…" if start else "") + text + ("…" if end < len(t.answer) else "")


def why(t: Triple) -> str:
    """What the detector saw: the answer words it matched, and the point's words it did not find."""
    answer = tokenize(strip_markdown(t.answer))
    said = {k for tok in answer.tokens for k in (tok.key, *tok.alts)}
    point = tokenize(strip_markdown(t.point)).tokens
    missing = list(dict.fromkeys(tok.raw for tok in point if not tok.stop and tok.key not in said))
    matched = list(dict.fromkeys(t.answer[a:b] for a, b in t.spans))
    if t.covered:
        seen = f"only matched {', '.join(matched)}" if matched else "matched none of the point's words"
        absent = ", ".join(missing) or "-"
        return f"why: {seen}; the answer makes the point in other words (point words absent: {absent})"
    return (
        f"why: matched {', '.join(matched) or '-'} (point words absent: {', '.join(missing) or '-'}); "
        "the words are there but the claim is wrong, denied, too vague or only part of the point"
    )


def errors(triples: Sequence[Triple], threshold: float) -> list[Triple]:
    """The misjudged pairs, worst first (furthest on the wrong side of the threshold)."""
    wrong = [t for t in triples if (t.score >= threshold) != t.covered]
    return sorted(wrong, key=lambda t: -abs(t.score - threshold))


def report(name: str, triples: Sequence[Triple], threshold: float, every_error: bool = False) -> dict:
    """Print the figures of one part: summary, per-question errors and the five worst errors."""
    r = rates(triples, threshold)
    print(summary_line(name, r))
    per_question: dict[str, Counter] = defaultdict(Counter)
    for t in triples:
        c = per_question[t.question]
        c["pairs"] += 1
        c["false ticks"] += t.score >= threshold and not t.covered
        c["misses"] += t.score < threshold and t.covered
    print(f"    {'question':<34} pairs  false ticks  misses")
    for question in sorted(per_question):
        c = per_question[question]
        print(f"    {question:<34} {c['pairs']:5d} {c['false ticks']:12d} {c['misses']:7d}")
    wrong = errors(triples, threshold)
    shown = wrong if every_error else wrong[:5]
    print(f"    {'every error' if every_error else 'five worst errors'} ({len(wrong)} in all):")
    for t in shown:
        kind = "false tick" if not t.covered else "miss"
        print(f"    - {t.answer_id} [{kind}, score {t.score:.3f}] point: {t.point}")
        print(textwrap.indent(textwrap.fill(excerpt(t), 104), "        "))
        print(textwrap.indent(textwrap.fill(why(t), 104), "        "))
    return r


def synthetic_answer(words: int) -> str:
    """A technical answer of about `words` words, from the set's own answers (for timing)."""
    data = load()
    pool = " ".join(e["answer"] for e in data.entries).split()
    return " ".join(pool[:words])


def timing(data: Dataset) -> tuple[float, float]:
    """Milliseconds per detection: a 300-word answer, and a 20,000-character one, against 6 key points."""
    question = next(q for q, texts in sorted(data.questions().items()) if len(texts) >= 5)
    points = key_points(data, question)
    points = [*points, kp.key_point("Mentions the container PID 1 problem and an init like tini")][:6]
    short = synthetic_answer(300)
    long = (synthetic_answer(4000) * 2)[:20_000]
    figures = []
    for draft, runs in ((short, 200), (long, 20)):
        kp.detect(draft, points)  # the per-point reading is cached, as in the app
        start = time.perf_counter()
        for i in range(runs):
            kp.detect(f"{draft} {i}", points)
        figures.append((time.perf_counter() - start) / runs * 1000)
    return figures[0], figures[1]


def evaluate(data: Dataset, with_terms: bool = True) -> tuple[float, list[Triple], list[Triple]]:
    """The tune-chosen threshold and the scored pairs of both parts."""
    tune = score(data, data.part("tune"), with_terms)
    held = score(data, data.part("held-out"), with_terms)
    return choose_threshold(tune), tune, held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune-only", action="store_true", help="print the tune part only (development)")
    parser.add_argument("--no-terms", action="store_true", help="also run without the author terms")
    parser.add_argument("--errors", action="store_true", help="print every error, not the five worst")
    args = parser.parse_args()
    data = load()
    questions = data.questions()
    tune_q = sorted(q for q in questions if data.split[q]["part"] == "tune")
    held_q = sorted(q for q in questions if data.split[q]["part"] == "held-out")
    total = sum(len(e["points"]) for e in data.entries)
    print(f"set: {len(questions)} questions, {len(data.entries)} answers, {total} labelled pairs")
    print(f"split: {len(tune_q)} tune questions, {len(held_q)} held out: {', '.join(held_q)}")
    for with_terms in (True, False) if args.no_terms else (True,):
        threshold, tune, held = evaluate(data, with_terms)
        note = "" if threshold == kp.THRESHOLD else f" (the detector's THRESHOLD is {kp.THRESHOLD})"
        print(f"\n== {'with' if with_terms else 'without'} author terms: threshold {threshold}{note}")
        report("tune", tune, threshold, args.errors)
        if args.tune_only:
            continue
        report("held-out", held, threshold, args.errors)
        unseen = [t for t in held if t.question != SEEN_BEFORE_SPLIT]
        label = f"held-out w/o {SEEN_BEFORE_SPLIT.removeprefix('sse-')}"
        print(summary_line(label, rates(unseen, threshold)))
    short, long = timing(data)
    print(f"\ntiming: {short:.2f} ms per detection of a 300-word answer against 6 key points;")
    print(f"        {long:.2f} ms for a 20,000-character answer (per-point reading cached, as in the app)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
