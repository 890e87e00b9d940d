"""Work spread over the machine's cores, in threads (shared by the analysis and data layers).

- Batched fits (dispersion, trends) treat each series (row) on its own, and numpy releases the
  interpreter lock inside its array loops: blocks of rows computed in threads give the same
  numbers, bit for bit, in about half the time on two cores (:func:`by_row_blocks`).
- Database drivers release it while the database works: a long aggregate split by month runs
  on several connections at once (``peelian.data.offence_sql``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["by_row_blocks", "worker_count"]

#: Below this many rows a batch runs in the calling thread (threads would cost more).
MIN_ROWS = 2000


def worker_count() -> int:
    """Threads to use: ``PEELIAN_THREADS`` if set, else the cores this process may run on
    (at most 8)."""
    env = os.environ.get("PEELIAN_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def by_row_blocks(fn: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``fn(*arrays)`` for row-independent ``fn``, computed on blocks of rows in threads and
    stacked back in order (the result has one row per input row)."""
    n = arrays[0].shape[0]
    workers = min(worker_count(), max(1, n // MIN_ROWS))
    if workers == 1:
        return fn(*arrays)
    bounds = np.linspace(0, n, workers + 1).astype(int)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="peelian-rows") as pool:
        parts = [
            pool.submit(fn, *[a[lo:hi] for a in arrays])
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        return np.concatenate([p.result() for p in parts], axis=0)
