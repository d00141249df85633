"""make bench: the same pure-Python work on every machine, printed first so that figures from different sessions
can be compared."""

from __future__ import annotations

import statistics
import time


def _timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def machine_reference_row() -> tuple:
    """The same pure-Python work on every machine, so figures from different sessions can be compared:
    the hosts we get vary up to 3× in speed from one session to the next."""

    def loop():
        total = 0
        for i in range(10_000_000):
            total += i
        return total

    loop_ms = _timed(loop, 3)
    return ("machine reference: 10 M additions in pure Python", f"{loop_ms:.0f} ms", "—", "divide to compare hosts")
