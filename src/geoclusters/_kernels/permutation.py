"""Conditional and total permutation kernels for local and global statistics."""

from __future__ import annotations

import numba
import numpy as np

# simulated and observed lags closer than this, relative to the largest term
# sum_k |w_k| * max|y|, are ties: the rounding error of a sum of k terms taken in
# another order is about k * 1e-16 of that, real differences are far larger
TIE_TOLERANCE = 1e-11

# tails for early stopping: both (two-sided and directed), the upper or the lower one
BOTH, UPPER, LOWER = 0, 1, 2


def neighbour_draws(seed, n: int, width: int, permutations: int) -> np.ndarray:
    """``permutations`` rows of ``width`` distinct indices drawn from ``0 .. n-2``.

    One table shared by all units (as esda and GeoDa do): unit ``i`` reads a
    drawn index ``d`` as ``d + 1`` when ``d >= i``, so it never draws itself.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((permutations, width), dtype=np.int64)
    for p in range(permutations):
        out[p] = rng.choice(n - 1, size=width, replace=False)
    return out


@numba.njit(cache=True, nogil=True)
def _unit_counts(y, ymax, i, a, k, data, indices, draws, drawn, after, sign, tail, stop):
    """(larger, smaller, done) for one unit ``i`` whose weights are ``data[a : a + k]``.

    ``draws``, ``drawn`` and ``after`` are transposed (neighbour slot x
    permutation): the draws and the values ``y[draws]`` and ``y[draws + 1]``.
    A unit reads its simulated neighbour values from these small tables,
    slot by slot along all permutations, in order, instead of from all of
    ``y`` at random: the loop stays in cache and vectorises. Each simulated
    lag is still summed over the slots in order, so both loops below give the
    same sums.
    """
    permutations = draws.shape[1]
    if sign == 0:
        return permutations, permutations, permutations
    observed = 0.0
    scale = 0.0
    for t in range(k):
        observed += data[a + t] * y[indices[a + t]]
        scale += abs(data[a + t])
    tol = TIE_TOLERANCE * scale * ymax
    above = 0
    below = 0
    count = permutations
    if stop == 0:
        lags = np.zeros(permutations)
        for t in range(k):
            weight = data[a + t]
            for p in range(permutations):
                value = drawn[t, p] if draws[t, p] < i else after[t, p]
                lags[p] += weight * value
        for p in range(permutations):
            above += lags[p] >= observed - tol
            below += lags[p] <= observed + tol
    else:
        for p in range(permutations):
            lag = 0.0
            for t in range(k):
                lag += data[a + t] * (drawn[t, p] if draws[t, p] < i else after[t, p])
            if lag >= observed - tol:
                above += 1
            if lag <= observed + tol:
                below += 1
            up = above if sign > 0 else below
            down = below if sign > 0 else above
            if tail == UPPER:
                extreme = up
            elif tail == LOWER:
                extreme = down
            else:
                extreme = min(up, down)
            if extreme >= stop:
                count = p + 1
                break
    if sign > 0:
        return above, below, count
    return below, above, count


@numba.njit(parallel=True, cache=True, nogil=True)
def _counts_parallel(y, indptr, indices, data, first, draws, drawn, after, sign, tail, stop):
    m = len(indptr) - 1
    ymax = np.max(np.abs(y))
    larger = np.zeros(m, dtype=np.int64)
    smaller = np.zeros(m, dtype=np.int64)
    done = np.zeros(m, dtype=np.int64)
    for r in numba.prange(m):
        k = indptr[r + 1] - indptr[r]
        if k > 0:
            larger[r], smaller[r], done[r] = _unit_counts(
                y, ymax, first + r, indptr[r], k, data, indices, draws, drawn, after, sign[r],
                tail, stop,
            )  # fmt: skip
    return larger, smaller, done


@numba.njit(cache=True, nogil=True)
def _counts_serial(y, indptr, indices, data, first, draws, drawn, after, sign, tail, stop):
    m = len(indptr) - 1
    ymax = np.max(np.abs(y))
    larger = np.zeros(m, dtype=np.int64)
    smaller = np.zeros(m, dtype=np.int64)
    done = np.zeros(m, dtype=np.int64)
    for r in range(m):
        k = indptr[r + 1] - indptr[r]
        if k > 0:
            larger[r], smaller[r], done[r] = _unit_counts(
                y, ymax, first + r, indptr[r], k, data, indices, draws, drawn, after, sign[r],
                tail, stop,
            )  # fmt: skip
    return larger, smaller, done


def conditional_counts(y, draws, tail, stop, indptr, indices, data, first, sign, parallel=True):
    """Counts of simulated statistics at or above, and at or below, the observed ones.

    Each unit's observed spatial lag is recomputed here in the order its
    simulated lags are summed, and a simulated lag within
    :data:`TIE_TOLERANCE` of it counts in both tails, so a simulation equal
    to the observation in exact arithmetic is never pushed into one tail by
    rounding.

    Parameters
    ----------
    y : float64 array (n,)
        Values of all units.
    draws : int64 array (permutations, max degree)
        The shared table of :func:`neighbour_draws`.
    tail : int
        ``BOTH``, ``UPPER`` or ``LOWER`` (of the statistic), for early stopping.
    stop : int
        Besag-Clifford early stopping: stop a unit once ``stop`` simulations
        were as extreme as the observation in the tested tail(s); 0 never.
    indptr, indices, data : CSR arrays of the rows ``first .. first + m - 1``
        Those units' neighbour weights, without self-weights.
    first : int
        Global index of the first row.
    sign : int8 array (m,)
        Sign of d(statistic)/d(lag) for each unit: the statistic's upper tail is
        the lag's upper tail when positive, its lower when negative; 0 means the
        statistic cannot vary (both counts are full).
    parallel : bool, default True
        Spread the units over numba's threads; a Dask worker runs one chunk
        per thread and passes False.

    Returns
    -------
    larger, smaller, done : int64 arrays (m,)
        Simulated statistics at or above / at or below the observed one, and
        simulations done per unit (fewer than ``permutations`` when stopped).
    """
    kernel = _counts_parallel if parallel else _counts_serial
    y = np.ascontiguousarray(y, dtype=np.float64)
    return kernel(
        y,
        np.ascontiguousarray(indptr, dtype=np.int64),
        np.ascontiguousarray(indices, dtype=np.int64),
        np.ascontiguousarray(data, dtype=np.float64),
        int(first),
        np.ascontiguousarray(draws.T),
        np.ascontiguousarray(y[draws.T]),
        np.ascontiguousarray(y[draws.T + 1]),
        np.ascontiguousarray(sign, dtype=np.int8),
        int(tail),
        int(stop),
    )


@numba.njit(parallel=True, cache=True, nogil=True)
def _quadratic(indptr, indices, data, xs):
    """sum_ij w_ij x_i x_j for each column x of ``xs`` (n, b).

    Each row's sums are computed on their own and added up in one fixed order,
    so the result does not depend on the number of threads; a neighbour's ``b``
    values sit side by side, so one memory access serves every column.
    """
    n, b = xs.shape
    rows = np.zeros((n, b))
    for i in numba.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            w = data[s]
            j = indices[s]
            for c in range(b):
                rows[i, c] += w * xs[j, c]
        for c in range(b):
            rows[i, c] *= xs[i, c]
    return rows.sum(axis=0)


@numba.njit(parallel=True, cache=True, nogil=True)
def _squared_differences(indptr, indices, data, xs):
    """sum_ij w_ij (x_i - x_j)**2 for each column x of ``xs`` (n, b); see :func:`_quadratic`."""
    n, b = xs.shape
    rows = np.zeros((n, b))
    for i in numba.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            w = data[s]
            j = indices[s]
            for c in range(b):
                diff = xs[i, c] - xs[j, c]
                rows[i, c] += w * diff * diff
    return rows.sum(axis=0)


def global_batch(kind, x, indptr, indices, data, seed_sequence, count) -> np.ndarray:
    """``count`` permutation values of ``z'Wz`` (kind "moran") or ``sum w (y_i - y_j)^2``.

    The ``count`` permuted copies of ``x`` (a batch of a few) are the only
    copies made, so memory stays at ``O(n)`` whatever the number of
    permutations. The batch draws from its own ``seed_sequence`` (spawned from
    the call's seed), so it gives the same values wherever it runs.
    """
    rng = np.random.default_rng(seed_sequence)
    kernel = _quadratic if kind == "moran" else _squared_differences
    xs = np.empty((len(x), count))
    for c in range(count):
        xs[:, c] = rng.permutation(x)
    return kernel(indptr, indices, data, xs)


def global_batches(kind, x, indptr, indices, data, seeds, counts) -> np.ndarray:
    """:func:`global_batch` for several batches, one after the other."""
    return np.concatenate(
        [
            global_batch(kind, x, indptr, indices, data, seed, count)
            for seed, count in zip(seeds, counts, strict=True)
        ]
    )


def observed_global(kind, x, indptr, indices, data) -> float:
    """The unpermuted value of :func:`global_batch`'s quantity."""
    kernel = _quadratic if kind == "moran" else _squared_differences
    return float(kernel(indptr, indices, data, np.asarray(x, dtype=np.float64)[:, None])[0])
