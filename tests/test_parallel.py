"""peelian._parallel: threaded work gives the serial answer, in order."""

from __future__ import annotations

import numpy as np
import pytest

from peelian._parallel import MIN_ROWS, by_row_blocks, parallel_map, worker_count


def test_worker_count_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEELIAN_THREADS", "3")
    assert worker_count() == 3
    monkeypatch.setenv("PEELIAN_THREADS", "none")
    assert 1 <= worker_count() <= 8


def test_row_blocks_equal_the_serial_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEELIAN_THREADS", "3")
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3 * MIN_ROWS + 7, 5)), rng.normal(size=(3 * MIN_ROWS + 7, 5))

    def fn(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.exp(x) * y.cumsum(axis=1)

    assert np.array_equal(by_row_blocks(fn, a, b), fn(a, b))
    assert parallel_map(lambda i: i * i, [3, 1, 2]) == [9, 1, 4]
