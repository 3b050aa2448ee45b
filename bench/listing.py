"""Benchmark: reading a large listing page (near-duplicate lines are looked for among all).

    python bench/listing.py [--lines 1500] [--chars 200] [--repeat-every 10] [--undated]

Makes a synthetic newest-first listing of `--lines` summaries of `--chars` characters each
(Japanese characters, one dated sentence a line; every `--repeat-every`-th line repeats an
earlier one with a one-character typo) and prints, over three runs, the time the near-duplicate
search (`near_duplicates.first_similar`) takes on its lines and, when the page is within
`corpus.MAX_LISTING_BYTES`, the time `corpus.read_file` takes on it, with how many articles
each kept. `--undated` leaves the date out of the lines: with `--lines 65535 --chars 4
--repeat-every 0`, a page of 1,048,560 bytes of five-character lines (the near-duplicate search
compared each with every earlier one: killed after 150 s).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core import corpus  # noqa: E402
from bot.core.near_duplicates import first_similar  # noqa: E402

ALPHABET = [chr(c) for c in range(0x3041, 0x3094)] + [chr(c) for c in range(0x4E00, 0x4FF4)]


def listing(lines: int, chars: int, repeat_every: int, *, dated: bool = True) -> str:
    """A listing page whose every `repeat_every`-th line is a near copy of an earlier one."""
    rng = random.Random(4)
    out: list[str] = []
    for number in range(lines):
        if number and repeat_every and number % repeat_every == 0:
            text = list(out[rng.randrange(number)])
            text[rng.randrange(len(text))] = rng.choice(ALPHABET)
            out.append("".join(text))
        else:
            body = "".join(rng.choice(ALPHABET) for _ in range(chars))
            out.append(f"2025年12月{1 + number % 28}日、{body}。" if dated else f"{body}。")
    return "\n".join(out) + "\n"


def _timed(run: Callable[[], int]) -> tuple[int, list[float]]:
    times: list[float] = []
    kept = 0
    for _ in range(3):
        start = time.perf_counter()
        kept = run()
        times.append(time.perf_counter() - start)
    return kept, times


def main() -> None:
    """Time three near-duplicate searches and three reads of one synthetic listing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=1500)
    parser.add_argument("--chars", type=int, default=200)
    parser.add_argument("--repeat-every", type=int, default=10)
    parser.add_argument("--undated", action="store_true", help="lines without a date")
    args = parser.parse_args()
    page = listing(args.lines, args.chars, args.repeat_every, dated=not args.undated)
    lines = page.splitlines()
    size = len(page.encode())
    print(f"listing of {args.lines} lines x {args.chars} chars ({size / 2**20:.1f} MB):")
    kept, times = _timed(lambda: first_similar(lines, corpus.NEAR_DUPLICATE).count(None))
    print(
        f"  near duplicates: {kept} lines kept, "
        f"median {statistics.median(times):.2f} s, worst {max(times):.2f} s"
    )
    if size > corpus.MAX_LISTING_BYTES:
        print(f"  read_file: not run, the page is over {corpus.MAX_LISTING_BYTES} bytes")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "listing.txt"
        path.write_text(page, encoding="utf-8")
        kept, times = _timed(lambda: len(corpus.read_file(path).drafts))
    print(
        f"  read_file: {kept} articles kept, "
        f"median {statistics.median(times):.2f} s, worst {max(times):.2f} s"
    )


if __name__ == "__main__":
    main()
