"""Work spread over the machine's cores, in threads (shared by the analysis and data layers).

- Batched fits (dispersion, trends) treat each series (row) on its own, and numpy releases the
  interpreter lock inside its array loops: blocks of rows computed in threads give the same
  numbers, bit for bit, in about half the time on two cores (:func:`by_row_blocks`).
- Database drivers release it while the database works: a long aggregate split by month runs
  on several connections at once (``peelian.data.offence_sql``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

__all__ = ["by_row_blocks", "parallel_map", "worker_count"]

T = TypeVar("T")

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


def parallel_map(fn: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
    """``[fn(x) for x in items]``, one thread per item (the caller sizes ``items`` to the
    cores); in order. A single item runs in the calling thread."""
    if len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=len(items), thread_name_prefix="peelian-work") as pool:
        return list(pool.map(fn, items))


def by_row_blocks(fn: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``fn(*arrays)`` for row-independent ``fn``, computed on blocks of rows in threads and
    stacked back in order (the result has one row per input row)."""
    n = arrays[0].shape[0]
    workers = min(worker_count(), max(1, n // MIN_ROWS))
    if workers == 1:
        return fn(*arrays)
    bounds = np.linspace(0, n, workers + 1).astype(int)
    blocks = list(zip(bounds[:-1], bounds[1:], strict=True))
    parts = parallel_map(lambda b: fn(*[a[b[0] : b[1]] for a in arrays]), blocks)
    return np.concatenate(parts, axis=0)
