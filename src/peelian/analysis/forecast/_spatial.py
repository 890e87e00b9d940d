"""Spatial smoothing on the cube's regular lattice (fast: one FFT convolution per call)."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from peelian.analysis.forecast._cube import CountCube
from peelian.errors import ParameterError

__all__ = ["kernel_weights", "smooth"]

KERNELS = ("quartic", "gaussian", "inverse_band", "uniform")


def kernel_weights(
    kernel: str, bandwidth: float, cell_size: float, *, band_width: float | None = None
) -> np.ndarray:
    """A 2-d kernel on the lattice (odd square array), not normalised.

    - ``quartic`` (biweight): (1 - (d/h)^2)^2 for d < h (Silverman 1986; the default of most crime
      mapping software).
    - ``gaussian``: exp(-d^2 / (2 h^2)), truncated at 3 h.
    - ``inverse_band``: 1 / (1 + b) for d <= h, b = round(d / band_width) the number of distance
      bands away (Bowers, Johnson & Pease 2004, prospective hotspotting).
    - ``uniform``: 1 for d <= h.
    """
    if kernel not in KERNELS:
        raise ParameterError(f"The 'kernel' parameter must be one of {KERNELS}. Got {kernel!r}.")
    if bandwidth <= 0:
        raise ParameterError(f"The 'bandwidth' parameter must be a number > 0. Got {bandwidth}.")
    reach = 3 * bandwidth if kernel == "gaussian" else bandwidth
    r = max(int(np.floor(reach / cell_size)), 0)
    off = np.arange(-r, r + 1) * cell_size
    d = np.hypot(off[:, None], off[None, :])
    if kernel == "quartic":
        w = np.where(d < bandwidth, (1 - (d / bandwidth) ** 2) ** 2, 0.0)
    elif kernel == "gaussian":
        w = np.where(d <= reach, np.exp(-(d**2) / (2 * bandwidth**2)), 0.0)
    elif kernel == "inverse_band":
        bw = band_width or cell_size
        w = np.where(d <= bandwidth + 1e-9, 1.0 / (1.0 + np.rint(d / bw)), 0.0)
    else:
        w = (d <= bandwidth + 1e-9).astype(float)
    if w.sum() == 0:  # bandwidth below half a cell: the cell itself
        w[r, r] = 1.0
    return w


def smooth(cube: CountCube, values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve per-cell ``values`` (n_cells,) or (n_cells, k) with ``kernel`` on the lattice and
    read the result back at the cells (the mass falling outside the cells is not returned)."""
    row, col, shape = cube.lattice()
    vals = np.asarray(values, dtype=float)
    squeeze = vals.ndim == 1
    if squeeze:
        vals = vals[:, None]
    out = np.empty_like(vals)
    for j in range(vals.shape[1]):
        raster = np.zeros(shape)
        raster[row, col] = vals[:, j]
        if kernel.shape == (1, 1):
            conv = raster * kernel[0, 0]
        else:
            conv = fftconvolve(raster, kernel, mode="same")
        out[:, j] = conv[row, col]
    out[np.abs(out) < 1e-12] = 0.0  # FFT round-off
    return out[:, 0] if squeeze else out
