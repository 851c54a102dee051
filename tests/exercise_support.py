"""A small bank with one question of each exercise kind, and helpers to drill them in tests."""

from __future__ import annotations

import copy

PREDICT = {
    "key": "ex-predict",
    "kind": "predict",
    "prompt": "What does this program print?",
    "code": '#include <stdio.h>\nint main(void)\n{\n    printf("%d\\n", -1 < sizeof(int));\n    return 0;\n}',
    "language": "c",
    "platform": "x86-64 Linux, gcc",
    "accepted": ["0\n"],
    "answer": "`-1` is converted to `size_t`, a huge unsigned value, so the comparison is false.",
    "key_points": ["Usual arithmetic conversions make -1 unsigned", "sizeof yields size_t"],
    "category": "Alpha",
    "difficulty": 1,
    "tags": ["c"],
}
SPOT_BUG = {
    "key": "ex-spot-bug",
    "kind": "spot_bug",
    "prompt": "Which line is wrong?",
    "code": "#include <string.h>\nvoid copy(char *dst, const char *src, size_t n)\n{\n"
    "    strncpy(dst, src, n);\n}",
    "language": "c",
    "bug_lines": [4],
    "solution": "#include <string.h>\nvoid copy(char *dst, const char *src, size_t n)\n{\n"
    "    strncpy(dst, src, n - 1);\n    dst[n - 1] = '\\0';\n}",
    "answer": "`strncpy` does not terminate the string when `src` is `n` or more bytes long.",
    "key_points": ["strncpy leaves no NUL when the source fills the buffer", "Terminate explicitly"],
    "category": "Alpha",
    "difficulty": 2,
    "tags": ["c"],
}
WRITE_CODE = {
    "key": "ex-write-code",
    "kind": "write_code",
    "prompt": "Write `int is_pow2(unsigned x)`.",
    "code": "int is_pow2(unsigned x)\n{\n}",
    "language": "c",
    "solution": "int is_pow2(unsigned x)\n{\n    return x && !(x & (x - 1));\n}",
    "tests": "#include <assert.h>\nint main(void)\n{\n"
    "    assert(is_pow2(1) && is_pow2(64) && !is_pow2(0) && !is_pow2(6));\n    return 0;\n}",
    "answer": "A power of two has exactly one bit set; `x & (x - 1)` clears the lowest set bit.",
    "key_points": [
        "Zero is not a power of two",
        "x & (x - 1) clears the lowest set bit",
        "One and 2^31 pass",
    ],
    "category": "Beta",
    "difficulty": 1,
    "tags": ["bits"],
}
READ_OUTPUT = {
    "key": "ex-read-output",
    "kind": "read_output",
    "prompt": "What does this `ss -ltn` line tell you?",
    "code": "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n"
    "LISTEN 129    128    0.0.0.0:8080       0.0.0.0:*",
    "language": "text",
    "answer": "The accept queue is full: 129 waiting connections against a backlog of 128.",
    "key_points": [
        "Recv-Q on a listener is the accept queue",
        "Send-Q is the backlog",
        "The app is not accepting",
    ],
    "category": "Beta",
    "difficulty": 2,
    "tags": ["net"],
}
DESIGN = {
    "key": "ex-design",
    "kind": "design",
    "prompt": "Design a log shipper for 1,000 hosts writing 1 MB/s each.",
    "follow_ups": [
        {"prompt": "Now the collector is down for an hour.", "answer": "Buffer on disk: 3.6 GB per host."},
        {"prompt": "Now 10 times the hosts.", "answer": "Shard the collectors by host."},
    ],
    "estimate": {"prompt": "Total ingest bandwidth", "value": 1000, "unit": "MB/s", "low": 800, "high": 1200},
    "answer": "Batch and compress on the host, ship over TCP with acknowledgements, spool to disk.",
    "key_points": ["Batches and compresses", "Spools to disk when the collector is down", "Back-pressure"],
    "category": "Alpha",
    "difficulty": 3,
    "tags": ["design"],
}
RECALL = {
    "key": "ex-recall",
    "prompt": "What is a zombie process?",
    "answer": "A child that has exited but has not been waited for.",
    "key_points": ["Exited", "Not yet reaped", "Holds a PID"],
    "category": "Beta",
    "difficulty": 1,
    "tags": ["proc"],
}
EXERCISES = {q.get("kind", "recall"): q for q in (PREDICT, SPOT_BUG, WRITE_CODE, READ_OUTPUT, DESIGN, RECALL)}
# Words of each kind's answer side that its front must never show (the output, the fix, the solution…).
SECRET = {
    "predict": "huge unsigned value",
    "spot_bug": "n - 1);",
    "write_code": "x && !(x & (x - 1))",
    "read_output": "accept queue is full",
    "design": "Buffer on disk",
    "recall": "has not been waited for",
}


def exercise_bank(*kinds: str) -> dict:
    """A bank of role `test-role` with one question of each kind asked for (all kinds by default)."""
    chosen = kinds or tuple(EXERCISES)
    return {
        "role": {"slug": "test-role", "title": "Role test-role", "summary": "A test role."},
        "sets": [
            {
                "slug": "basics",
                "title": "Set basics",
                "description": "Test set.",
                "published": True,
                "questions": [copy.deepcopy(EXERCISES[kind]) for kind in chosen],
            }
        ],
    }
