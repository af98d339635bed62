"""Speed of the secret scrubbing that runs at start_run (argv) and at the end of a failed run.

    PYTHONPATH=src python benchmarks/bench_redact.py

Prints the time per call, in microseconds, of ``redact_text`` on typical error
messages and of ``redact_argv`` on a typical command line: the median and the best
of 15 batches (on a busy machine the best is the truer figure). Standard library only.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from trackreport.redact import redact_argv, redact_text

TEXTS = {
    "plain error": "ValueError: shapes (3,4) and (5,) not aligned: 4 (dim 1) != 5 (dim 0)",
    "URL with password and token": (
        "RuntimeError: could not reach https://carol:PW@api.example/v1?access_token=TOK"
    ),
    "dict repr with a header": (
        "HTTPError: 401 for {'Authorization': 'Bearer abcdefghijkl', 'Accept': 'json'}"
    ),
    "1 kB of plain text": "RuntimeError: " + "the loader failed on a batch, " * 35,
}
ARGV = ["train.py", "--lr", "0.1", "--epochs=3", "--api-key", "abc", "--data=s3://b/x.csv"]


def _times_us(call: object, number: int = 1_000) -> str:
    runs = [t / number * 1e6 for t in timeit.repeat(call, number=number, repeat=15)]  # type: ignore[arg-type]
    return f"median {statistics.median(runs):7.1f} µs   best {min(runs):7.1f} µs"


def main() -> None:
    """Print one line per case."""
    for name, text in TEXTS.items():
        print(f"redact_text  {name:<30} {_times_us(lambda t=text: redact_text(t))}")
    print(f"redact_argv  {f'{len(ARGV)} arguments':<30} {_times_us(lambda: redact_argv(ARGV))}")


if __name__ == "__main__":
    main()
