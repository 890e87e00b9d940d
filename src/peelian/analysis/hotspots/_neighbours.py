"""Binary neighbourhoods of grid cells for Gi*: a distance band on cell centres or a ring
(k-th order contiguity), built from lattice offsets (square, hexagonal) or H3 rings, as a sparse
matrix with the cell itself included (the "star" of Gi*)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from peelian.analysis.grid import Grid
from peelian.errors import ParameterError

__all__ = ["Neighbourhood", "choose_neighbourhood", "lattice_offsets", "weights_matrix"]

_TOL = 1e-9


@dataclass(frozen=True)
class Neighbourhood:
    """``distance`` (metres, centres within it are neighbours) or ``ring`` (k-th order
    contiguity on the lattice: queen's case on squares, hexagon rings on hex and H3 grids)."""

    distance: float | None = None
    ring: int | None = None
    rule: str | None = None

    def describe(self) -> str:
        if self.ring is not None:
            return f"ring {self.ring} (contiguity order {self.ring}, including the cell itself)"
        return f"distance band {self.distance:g} m between cell centres (including the cell itself)"


def choose_neighbourhood(
    grid: Grid, distance: float | None, ring: int | None
) -> tuple[Neighbourhood, dict[str, Any]]:
    """The neighbourhood to use, and the automatic choice made (if any).

    Default rule: the smallest neighbourhood in which a cell away from the boundary has at least
    8 neighbours besides itself (the queen's case on a square grid, as sfhotspot's default
    ``nb_dist = cell_size * sqrt(2)``): distance ``ceil(sqrt(2) * cell_size)`` on squares,
    ``ceil(sqrt(3) * cell_size)`` on hexagons (12 neighbours), ring 2 on H3 (18). Rounding up to
    whole metres keeps cell centres off the band's edge.
    """
    if distance is not None and ring is not None:
        raise ParameterError(
            "Give either 'distance' or 'ring' for the neighbourhood, not both.",
            "Drop one of them.",
        )
    if distance is not None:
        return Neighbourhood(distance=float(distance)), {}
    if ring is not None:
        return Neighbourhood(ring=int(ring)), {}
    if grid.kind == "h3":
        nb = Neighbourhood(ring=2, rule="ring 2 on H3 (18 neighbours; ring 1 has only 6)")
    else:
        factor = math.sqrt(2.0) if grid.kind == "square" else math.sqrt(3.0)
        d = float(math.ceil(factor * grid.cell_size))
        nb = Neighbourhood(
            distance=d,
            rule=(
                f"smallest band giving a full cell at least 8 neighbours: ceil("
                f"{'sqrt(2)' if grid.kind == 'square' else 'sqrt(3)'} x {grid.cell_size:g} m)"
            ),
        )
    return nb, {"neighbourhood": {"value": nb.describe(), "rule": nb.rule}}


def lattice_offsets(grid: Grid, nb: Neighbourhood) -> np.ndarray:
    """Lattice offsets (d_row, d_col) of the neighbourhood, (0, 0) included."""
    if grid.kind == "h3":
        raise ParameterError("H3 grids have no lattice offsets.")
    cs = grid.cell_size
    ring = nb.ring
    d2 = 0.0 if nb.distance is None else nb.distance**2 * (1 + _TOL)
    if ring is not None:
        k = int(ring)
    elif nb.distance is not None:
        k = int(math.floor(nb.distance / (cs if grid.kind == "square" else cs * math.sqrt(0.75))))
    else:
        raise ParameterError("A neighbourhood needs a distance or a ring.")
    grid_a, grid_b = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    a, b = grid_a.ravel(), grid_b.ravel()
    if grid.kind == "square":
        keep = (
            np.maximum(np.abs(a), np.abs(b)) <= k
            if ring is not None
            else (a * a + b * b) * cs * cs <= d2
        )
    else:  # axial (dr, dq): squared distance / w^2 = dq^2 + dq dr + dr^2
        keep = (
            (np.abs(a) + np.abs(b) + np.abs(a + b)) // 2 <= k
            if ring is not None
            else (b * b + a * b + a * a) * cs * cs <= d2
        )
    return np.column_stack([a[keep], b[keep]])


def weights_matrix(grid: Grid, nb: Neighbourhood) -> sp.csr_matrix:
    """Binary weights (n_cells x n_cells, CSR) with ones on the diagonal."""
    n = grid.n_cells
    if grid.kind == "h3":
        return _h3_weights(grid, nb)
    assert grid.lattice is not None and grid._lookup is not None and grid.origin is not None
    lookup = grid._lookup
    base_r = grid.lattice[:, 0] - (int(grid.origin[1]) if grid.kind == "hex" else 0)
    base_c = grid.lattice[:, 1] - (int(grid.origin[0]) if grid.kind == "hex" else 0)
    rows, cols = [], []
    nr, nc = lookup.shape
    for dr, dc in lattice_offsets(grid, nb):
        r, c = base_r + dr, base_c + dc
        ok = (r >= 0) & (r < nr) & (c >= 0) & (c < nc)
        j = np.full(n, -1, dtype=np.int64)
        j[ok] = lookup[r[ok], c[ok]]
        hit = j >= 0
        rows.append(np.flatnonzero(hit))
        cols.append(j[hit])
    i = np.concatenate(rows)
    j = np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))


def _h3_weights(grid: Grid, nb: Neighbourhood) -> sp.csr_matrix:
    n = grid.n_cells
    if nb.distance is not None:
        from scipy.spatial import cKDTree

        tree = cKDTree(np.column_stack([grid.x, grid.y]))
        pairs = tree.query_pairs(nb.distance * (1 + _TOL), output_type="ndarray")
        i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
        j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
        return sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    import h3.api.basic_int as h3i

    index = grid._h3_index
    assert index is not None and nb.ring is not None
    k = int(nb.ring)
    disks = [h3i.grid_disk(int(c), k) for c in index]
    sizes = np.fromiter((len(d) for d in disks), dtype=np.int64, count=len(disks))
    members = np.fromiter((c for d in disks for c in d), dtype=np.uint64, count=int(sizes.sum()))
    i = np.repeat(np.arange(n), sizes)
    j = index.get_indexer(members)
    hit = j >= 0
    return sp.csr_matrix((np.ones(int(hit.sum())), (i[hit], j[hit])), shape=(n, n))
