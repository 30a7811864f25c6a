"""Spatial autocorrelation: global Moran's I and Geary's C, local Moran and Getis-Ord G.

All statistics are computed here with numpy and scipy sparse matrices and agree
with esda's on the same inputs; every function returns the same result shape
(:class:`GlobalResult` or :class:`LocalResult`) with the same attribute names:
``statistic``, ``expected``, ``variance``, ``z``, ``p_value``, ``p_norm``,
``significant``, ``quadrant``, ``cluster`` and the parameters used.

Conventions
-----------
Weights
    Row-standardised by default (``transform="r"``: each row sums to one), or
    binary (``"b"``). Areas without neighbours (islands) have an empty row: they
    add nothing to global statistics (as in esda) and their local statistics
    are undefined, so they are NaN, with a note, never 0.

Local Moran scaling
    esda and GeoDa scale the local Moran so that the local values sum to
    ``(n - 1) * I`` under row standardisation:
    ``I_i = (n - 1) * z_i * sum_j w_ij z_j / sum_k z_k**2``, with ``z`` the
    values centred and divided by their population standard deviation.
    R's ``spdep::localmoran`` divides by ``m2 = sum_k z_k**2 / n`` instead, so
    its values are ours times ``n / (n - 1)`` and sum to ``n * I``.
    **geoclusters uses the esda/GeoDa convention.** The z-scores and p-values
    do not depend on this constant.

Inference
    *Permutation*: global statistics permute all values; local statistics use
    conditional permutation, holding unit ``i``'s value fixed and drawing its
    neighbours' values from the other ``n - 1`` units. As in esda, one matrix
    of random draws (``permutations`` rows, as many columns as the largest
    number of neighbours) is drawn from ``0 .. n-2`` and shared by all units,
    the draws at or above ``i`` being shifted by one to skip ``i`` itself. The
    generator is ``numpy.random.default_rng(seed)``, so a seed reproduces the
    p-values exactly. The pseudo p-value is folded one-sided, as esda's:
    ``(min(#{sim >= obs}, #{sim <= obs}) + 1) / (permutations + 1)``: the tail
    the observed value lies in. (esda counts the lower tail strictly,
    ``#{sim < obs}``; the two differ only for simulated values exactly equal to
    the observed one, which we count as extreme in both tails, so a
    degenerate unit gets p = 1 rather than a spuriously small p.)

    *Analytic*: ``z = (statistic - expected) / sqrt(variance)`` and ``p_norm``,
    the one-sided normal tail beyond ``|z|`` (double it for a two-sided test),
    comparable to the folded pseudo p-value. Global Moran and Geary use the
    moments under randomisation (Cliff and Ord). Local Moran uses the exact
    mean and variance of its conditional permutation distribution; local G
    uses the Getis-Ord moments, written with the sum of squared weights
    (``N * S1_i - W_i**2``), which is exact under randomisation for any
    weights. For binary weights this equals esda's formula; for
    row-standardised weights esda uses ``W_i * (N - W_i)`` (valid for binary
    weights only), so esda's row-standardised G z-scores differ from ours,
    while ours do not change with the weights' scale.

    *Multiple testing*: ``significant`` is ``p_value`` tested at ``alpha``
    after the ``correction``: none, ``"bonferroni"``, or ``"fdr"``
    (Benjamini-Hochberg), see :func:`adjust_pvalues`. With
    ``permutations=0`` the analytic ``p_norm`` is used as ``p_value``.

Missing values
    ``values`` is aligned to the graph by area code; codes missing on either
    side are an error naming them. NaN values are an error unless
    ``missing="drop"``: those areas are then removed from the graph before
    anything is computed, their results are NaN, and they are listed in the
    result's ``notes``. Every input area appears in ``to_frame()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from scipy import sparse, stats

from .errors import InputError, check_choice

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "GlobalResult",
    "LocalResult",
    "adjust_pvalues",
    "geary",
    "local_g",
    "local_moran",
    "moran",
]

_TRANSFORMS = ("r", "b")
_CORRECTIONS = (None, "fdr", "bonferroni")
_MISSING = ("raise", "drop")
QUADRANTS = ("HH", "LH", "LL", "HL")
NOT_SIGNIFICANT = "not significant"
# elements of one block of simulated neighbour values: bounds memory (8 MB) and stays cache-friendly
_BLOCK = 1_000_000
_GLOBAL_CHUNK = 64


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class GlobalResult:
    """A global statistic with its inference.

    Attributes
    ----------
    name : str
        ``"moran"`` or ``"geary"``.
    statistic : float
        Moran's I or Geary's C.
    expected, variance : float
        Mean and variance under randomisation (analytic).
    z : float
        ``(statistic - expected) / sqrt(variance)``.
    p_value : float
        Folded one-sided permutation pseudo p-value (``p_norm`` when
        ``permutations == 0``).
    p_norm : float
        One-sided normal tail probability beyond ``|z|``.
    significant : bool
        ``p_value <= alpha``.
    alpha : float
    correction : None
        A single test needs none; kept so every result has the same names.
    quadrant, cluster : None
        Only defined for local statistics.
    permutations : int
    seed : int or None
    transform : str
    n : int
        Number of areas used.
    params : mapping
        Every parameter of the call.
    notes : tuple of str
        Islands, dropped areas and other caveats.
    """

    name: str
    statistic: float
    expected: float
    variance: float
    z: float
    p_value: float
    p_norm: float
    significant: bool
    alpha: float
    permutations: int
    seed: int | None
    transform: str
    n: int
    params: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    correction: None = None
    quadrant: None = None
    cluster: None = None

    def to_frame(self) -> pd.DataFrame:
        """One row, indexed by the statistic's name.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from libpysal.graph import Graph
        >>> g = Graph.from_arrays(np.array(list("abcd")), np.array(list("badc")), np.ones(4))
        >>> r = moran(pd.Series([1.0, 2.0, 8.0, 9.0], index=list("abcd")), g, permutations=0)
        >>> list(r.to_frame().columns[:4])
        ['statistic', 'expected', 'variance', 'z']
        """
        row = {
            "statistic": self.statistic,
            "expected": self.expected,
            "variance": self.variance,
            "z": self.z,
            "p_value": self.p_value,
            "p_norm": self.p_norm,
            "significant": self.significant,
            "permutations": self.permutations,
            "n": self.n,
        }
        return pd.DataFrame([row], index=pd.Index([self.name], name="statistic_name"))


@dataclass(frozen=True, eq=False)
class LocalResult:
    """A local statistic for every area, with its inference.

    Arrays are read-only and follow ``ids``; areas dropped for missing values
    and islands hold NaN (and ``significant`` False).

    Attributes
    ----------
    name : str
        ``"local_moran"``, ``"local_g"`` or ``"local_g_star"``.
    statistic, expected, variance, z, p_value, p_norm : numpy.ndarray
        As for :class:`GlobalResult`, one value per area.
    significant : numpy.ndarray of bool
        ``p_value`` tested at ``alpha`` after ``correction``.
    quadrant : numpy.ndarray of object or None
        Local Moran only: ``"HH"``, ``"LH"``, ``"LL"`` or ``"HL"`` (value high or
        low against the spatial lag), None where undefined.
    cluster : numpy.ndarray of object
        The map label: the quadrant (local Moran) or ``"hot"``/``"cold"``
        (local G) where significant, ``"not significant"`` elsewhere, None
        where undefined.
    correction : str or None
    alpha : float
    permutations : int
    seed : int or None
    transform : str
    n : int
        Number of areas used (after dropping missing values).
    ids : pandas.Index
        Area codes, in graph order.
    params : mapping
    notes : tuple of str
    """

    name: str
    statistic: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    p_norm: np.ndarray
    significant: np.ndarray
    quadrant: np.ndarray | None
    cluster: np.ndarray
    correction: str | None
    alpha: float
    permutations: int
    seed: int | None
    transform: str
    n: int
    ids: pd.Index
    params: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Results as a DataFrame indexed by area code.

        Columns: ``statistic, expected, variance, z, p_value, p_norm,
        significant, quadrant, cluster`` (``quadrant`` is None for local G).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from libpysal.graph import Graph
        >>> g = Graph.from_arrays(np.array(list("abcd")), np.array(list("badc")), np.ones(4))
        >>> y = pd.Series([1.0, 2.0, 8.0, 9.0], index=list("abcd"))
        >>> local_moran(y, g, permutations=99, seed=1).to_frame()["quadrant"].tolist()
        ['LL', 'LL', 'HH', 'HH']
        """
        quadrant = self.quadrant if self.quadrant is not None else [None] * len(self.ids)
        return pd.DataFrame(
            {
                "statistic": self.statistic,
                "expected": self.expected,
                "variance": self.variance,
                "z": self.z,
                "p_value": self.p_value,
                "p_norm": self.p_norm,
                "significant": self.significant,
                "quadrant": pd.Series(quadrant, dtype=object).to_numpy(),
                "cluster": self.cluster,
            },
            index=pd.Index(self.ids, name="area"),
        )


# ---------------------------------------------------------------------------
# multiple testing


def adjust_pvalues(p, method: str | None = "fdr", alpha: float = 0.05) -> np.ndarray | pd.Series:
    """Which p-values are significant after a multiple-testing correction.

    NaN p-values (undefined tests) are never significant and are not counted
    among the tests.

    Parameters
    ----------
    p : array-like or pandas.Series
        p-values.
    method : {"fdr", "bonferroni", None}, default "fdr"
        ``"fdr"``: Benjamini-Hochberg, reject the ``k`` smallest p-values where
        ``k`` is the largest rank with ``p_(k) <= k * alpha / m``.
        ``"bonferroni"``: ``p <= alpha / m``. None: ``p <= alpha``.
    alpha : float, default 0.05
        False discovery rate (FDR) or family-wise error rate.

    Returns
    -------
    numpy.ndarray of bool, or pandas.Series of bool with ``p``'s index

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.03, 0.02, 0.5], "fdr", alpha=0.05).tolist()
    [True, True, True, False]
    >>> adjust_pvalues([0.01, 0.03, 0.02, 0.5], "bonferroni", alpha=0.05).tolist()
    [True, False, False, False]
    """
    if method not in _CORRECTIONS:
        raise InputError(f"unknown correction {method!r}", fix=f"use one of {list(_CORRECTIONS)}")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")
    index = p.index if isinstance(p, pd.Series) else None
    values = np.asarray(p, dtype=float)
    defined = ~np.isnan(values)
    if ((values[defined] < 0) | (values[defined] > 1)).any():
        raise InputError("p-values must lie in [0, 1]")
    m = int(defined.sum())
    reject = np.zeros(values.shape, dtype=bool)
    if m:
        tested = values[defined]
        if method is None:
            hit = tested <= alpha
        elif method == "bonferroni":
            hit = tested <= alpha / m
        else:
            order = np.argsort(tested, kind="stable")
            below = tested[order] <= alpha * np.arange(1, m + 1) / m
            hit = np.zeros(m, dtype=bool)
            if below.any():
                hit[order[: np.flatnonzero(below).max() + 1]] = True
        reject[defined] = hit
    return pd.Series(reject, index=index) if index is not None else reject


# ---------------------------------------------------------------------------
# input preparation


@dataclass
class _Prepared:
    y: np.ndarray  # values of the areas used
    weights: sparse.csr_array  # transformed weights between the areas used, no diagonal
    raw: sparse.csr_array  # the graph's own weights between the areas used, no diagonal
    ids: pd.Index  # every area, graph order
    used: np.ndarray  # bool mask over ids
    notes: list[str]


def _as_graph(graph) -> Graph:
    if isinstance(graph, Graph):
        return graph
    try:
        from libpysal.weights import W
    except ImportError:  # pragma: no cover - libpysal always ships weights
        W = ()
    if isinstance(graph, W):
        return Graph.from_W(graph)
    raise InputError(
        f"graph must be a libpysal.graph.Graph, got {type(graph).__name__}",
        fix="build it with geoclusters.contiguity, knn, distance_band or commuting",
    )


def _transform(matrix: sparse.csr_array, transform: str) -> sparse.csr_array:
    """Binary (``"b"``) or row-standardised (``"r"``) copy; empty rows stay empty."""
    if transform == "b":
        out = matrix.copy()
        out.data[:] = 1.0
        return out
    rows = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, rows, out=np.zeros_like(rows), where=rows != 0)
    out = sparse.csr_array(sparse.diags_array(scale) @ matrix)
    out.sort_indices()
    return out


def _prepare(values, graph, transform: str, missing: str) -> _Prepared:
    graph = _as_graph(graph)
    check_choice("transform", transform, _TRANSFORMS)
    check_choice("missing", missing, _MISSING)
    ids = pd.Index(graph.unique_ids)
    if isinstance(values, pd.Series):
        if values.index.has_duplicates:
            raise InputError(
                "values has duplicated area codes",
                rows=values.index[values.index.duplicated()].unique().tolist(),
            )
        absent = ids.difference(values.index, sort=False)
        if len(absent):
            raise InputError(
                "areas of the graph have no value",
                rows=absent.tolist(),
                fix="supply a value (NaN with missing='drop' if unknown) for every area",
            )
        extra = values.index.difference(ids, sort=False)
        if len(extra):
            raise InputError(
                "values has area codes that are not in the graph",
                rows=extra.tolist(),
                fix="drop them from the values or build the graph on all areas",
            )
        values = values.reindex(ids)
    else:
        values = np.asarray(values)
        if values.ndim != 1 or len(values) != len(ids):
            raise InputError(
                f"values must be one value per graph area ({len(ids)}), got shape {values.shape}",
                fix="pass a pandas Series indexed by area code",
            )
    try:
        y = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            "values must be numbers", fix="convert the column with pandas.to_numeric"
        ) from None
    if np.isinf(y).any():
        raise InputError("values are infinite", rows=ids[np.isinf(y)].tolist())
    nan = np.isnan(y)
    notes = []
    if nan.any():
        if missing == "raise":
            raise InputError(
                "values are missing (NaN)",
                rows=ids[nan].tolist(),
                fix="fill them, or pass missing='drop' to remove these areas from the graph",
            )
        notes.append(
            f"{int(nan.sum())} area(s) dropped for missing values, results NaN: "
            + ", ".join(map(str, ids[nan]))
        )
    used = ~nan
    raw = sparse.csr_array(graph.sparse, dtype=float)
    if nan.any():
        raw = sparse.csr_array(raw[used][:, used])
    raw.setdiag(0)
    raw.eliminate_zeros()
    raw.sort_indices()
    y = y[used]
    if len(y) < 3:
        raise InputError(f"need at least three areas with values, got {len(y)}")
    if np.ptp(y) == 0:
        raise InputError("values are all equal, so no autocorrelation can be measured")
    return _Prepared(
        y=y, weights=_transform(raw, transform), raw=raw, ids=ids, used=used, notes=notes
    )


def _island_note(islands: np.ndarray, ids: np.ndarray) -> str:
    return (
        f"{int(islands.sum())} area(s) without neighbours, local statistic undefined (NaN): "
        + ", ".join(map(str, ids[islands]))
    )


def _fold(larger: np.ndarray, smaller: np.ndarray, permutations: int) -> np.ndarray:
    """Folded one-sided pseudo p-value from the counts of simulations >= and <= observed."""
    return (np.minimum(larger, smaller) + 1.0) / (permutations + 1.0)


def _check_permutations(permutations: int) -> None:
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer):
        raise InputError(f"permutations must be an integer, got {permutations!r}")
    if permutations < 0:
        raise InputError(f"permutations must be zero or positive, got {permutations}")


def _one_sided(z):
    return stats.norm.sf(np.abs(z))


# ---------------------------------------------------------------------------
# global statistics


def _weight_sums(w: sparse.csr_array) -> tuple[float, float, float]:
    s0 = float(w.sum())
    sym = w + w.T
    s1 = 0.5 * float((sym.multiply(sym)).sum())
    s2 = float(((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2).sum())
    return s0, s1, s2


def _global(
    name: str,
    values,
    graph,
    permutations: int,
    seed,
    transform: str,
    alpha: float,
    missing: str,
) -> GlobalResult:
    _check_permutations(permutations)
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")
    prep = _prepare(values, graph, transform, missing)
    y, w = prep.y, prep.weights
    n = len(y)
    s0, s1, s2 = _weight_sums(w)
    if s0 == 0:
        raise InputError("the graph has no links between the areas used, so nothing to measure")
    z = y - y.mean()
    zz = float(z @ z)
    kurtosis = n * float((z**4).sum()) / zz**2
    degree = np.diff(w.indptr)
    if (degree == 0).any():
        prep.notes.append(
            _island_note(degree == 0, prep.ids[prep.used].to_numpy())
            + "; they enter the global statistic with a zero spatial lag"
        )

    if name == "moran":
        # Moran's I: n / S0 * z'Wz / z'z, and its moments under randomisation
        def calc(zs: np.ndarray) -> np.ndarray:
            return n / s0 * np.einsum("ij,ij->i", zs, (w @ zs.T).T) / zz

        statistic = float(calc(z[None, :])[0])
        expected = -1.0 / (n - 1)
        a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0**2)
        b = kurtosis * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0**2)
        variance = (a - b) / ((n - 1) * (n - 2) * (n - 3) * s0**2) - expected**2
        base = z
    else:
        # Geary's C: (n - 1) sum w_ij (y_i - y_j)^2 / (2 S0 z'z), moments under randomisation
        coo = w.tocoo()

        def calc(ys: np.ndarray) -> np.ndarray:
            diff = ys[:, coo.row] - ys[:, coo.col]
            return (n - 1) * (diff**2 @ coo.data) / (2 * s0 * zz)

        statistic = float(calc(y[None, :])[0])
        expected = 1.0
        a = (n - 1) * s1 * (n * n - 3 * n + 3 - (n - 1) * kurtosis)
        b = 0.25 * (n - 1) * s2 * (n * n + 3 * n - 6 - (n * n - n + 2) * kurtosis)
        c = s0**2 * (n * n - 3 - (n - 1) ** 2 * kurtosis)
        variance = (a - b + c) / (n * (n - 2) * (n - 3) * s0**2)
        base = y

    z_score = (statistic - expected) / np.sqrt(variance)
    p_norm = float(_one_sided(z_score))
    if permutations:
        rng = np.random.default_rng(seed)
        larger = smaller = 0
        done = 0
        while done < permutations:
            size = min(_GLOBAL_CHUNK, permutations - done)
            sims = calc(rng.permuted(np.tile(base, (size, 1)), axis=1))
            larger += int((sims >= statistic).sum())
            smaller += int((sims <= statistic).sum())
            done += size
        p_value = float(_fold(np.array(larger), np.array(smaller), permutations))
    else:
        p_value = p_norm
    params = {
        "permutations": permutations,
        "seed": seed,
        "transform": transform,
        "alpha": alpha,
        "missing": missing,
        "moments": "randomisation",
        "p_value": "permutation" if permutations else "normal",
    }
    return GlobalResult(
        name=name,
        statistic=statistic,
        expected=float(expected),
        variance=float(variance),
        z=float(z_score),
        p_value=p_value,
        p_norm=p_norm,
        significant=bool(p_value <= alpha),
        alpha=alpha,
        permutations=permutations,
        seed=seed,
        transform=transform,
        n=n,
        params=MappingProxyType(params),
        notes=tuple(prep.notes),
    )


def moran(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    transform: str = "r",
    alpha: float = 0.05,
    missing: str = "raise",
) -> GlobalResult:
    """Global Moran's I with permutation and analytic inference.

    ``I = n / S0 * sum_ij w_ij z_i z_j / sum_i z_i**2`` with ``z`` the centred
    values and ``S0`` the sum of the weights.

    Parameters
    ----------
    values : pandas.Series
        One value per area, indexed by area code (aligned with the graph ids);
        a plain array is taken in graph order.
    graph : libpysal.graph.Graph
        Spatial graph, e.g. from :func:`geoclusters.contiguity`.
    permutations : int, default 999
        Random permutations for the pseudo p-value; 0 for analytic only.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.
    transform : {"r", "b"}, default "r"
        Row-standardised or binary weights.
    alpha : float, default 0.05
        Significance level of ``significant``.
    missing : {"raise", "drop"}, default "raise"
        NaN values are an error, or their areas are removed from the graph.

    Returns
    -------
    GlobalResult

    Raises
    ------
    InputError
        For values missing or extra against the graph, NaN values (unless
        ``missing="drop"``), constant values or a graph without links.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from libpysal.graph import Graph
    >>> ids = np.array(list("abcdef"))
    >>> g = Graph.from_arrays(ids[[0, 1, 1, 2, 3, 4, 4, 5]], ids[[1, 0, 2, 1, 4, 3, 5, 4]],
    ...                       np.ones(8))
    >>> y = pd.Series([1.0, 2.0, 1.5, 8.0, 9.0, 8.5], index=ids)
    >>> r = moran(y, g, permutations=99, seed=0)
    >>> round(r.statistic, 4), r.name, r.transform
    (0.9765, 'moran', 'r')
    """
    return _global("moran", values, graph, permutations, seed, transform, alpha, missing)


def geary(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    transform: str = "r",
    alpha: float = 0.05,
    missing: str = "raise",
) -> GlobalResult:
    """Global Geary's C with permutation and analytic inference.

    ``C = (n - 1) sum_ij w_ij (y_i - y_j)**2 / (2 S0 sum_i z_i**2)``; values
    below 1 mean positive spatial autocorrelation.

    Parameters
    ----------
    values : pandas.Series
        One value per area, indexed by area code.
    graph : libpysal.graph.Graph
    permutations : int, default 999
    seed : int, optional
    transform : {"r", "b"}, default "r"
    alpha : float, default 0.05
    missing : {"raise", "drop"}, default "raise"

    Returns
    -------
    GlobalResult
        ``expected`` is 1.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from libpysal.graph import Graph
    >>> ids = np.array(list("abcdef"))
    >>> g = Graph.from_arrays(ids[[0, 1, 1, 2, 3, 4, 4, 5]], ids[[1, 0, 2, 1, 4, 3, 5, 4]],
    ...                       np.ones(8))
    >>> y = pd.Series([1.0, 2.0, 1.5, 8.0, 9.0, 8.5], index=ids)
    >>> r = geary(y, g, permutations=0)
    >>> r.statistic < r.expected
    True
    """
    return _global("geary", values, graph, permutations, seed, transform, alpha, missing)


# ---------------------------------------------------------------------------
# local statistics


def _draws(rng: np.random.Generator, n: int, width: int, permutations: int) -> np.ndarray:
    """``permutations`` rows of ``width`` distinct indices drawn from ``0 .. n-2``."""
    out = np.empty((permutations, width), dtype=np.intp)
    for p in range(permutations):
        out[p] = rng.choice(n - 1, size=width, replace=False)
    return out


def _conditional_counts(
    y: np.ndarray,
    w: sparse.csr_array,
    observed: np.ndarray,
    stat,
    permutations: int,
    seed,
    client=None,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of conditional-permutation statistics >= and <= the observed ones.

    For unit ``i`` with ``k`` neighbours, each simulation gives its neighbour
    slots the values of ``k`` distinct other units; ``stat(units, lag)`` turns
    the simulated weighted sums ``lag`` (units x permutations) into statistics.
    With a Dask ``client`` the units are counted in chunks on its workers, with
    the same draws, so the counts are the same.
    """
    n = len(y)
    degree = np.diff(w.indptr)
    if permutations == 0 or degree.max() == 0:
        return np.zeros(n), np.zeros(n)
    rng = np.random.default_rng(seed)
    draws = _draws(rng, n, int(degree.max()), permutations)
    if client is not None:
        from .distributed import _conditional_counts_dask

        return _conditional_counts_dask(client, y, w, observed, stat, draws, chunk_size)
    return _chunk_counts(y, w, 0, observed, stat, draws)


def _chunk_counts(
    y: np.ndarray,
    rows: sparse.csr_array,
    first: int,
    observed: np.ndarray,
    stat,
    draws: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_conditional_counts` for the units ``first .. first + len(rows) - 1``.

    ``rows`` holds those units' weights (rows of the full matrix); ``y``,
    ``observed``, ``stat`` and ``draws`` are for all units. Units are processed
    in blocks of equal ``k`` so that every step is one vectorised gather.
    """
    permutations = len(draws)
    degree = np.diff(rows.indptr)
    larger = np.zeros(len(degree))
    smaller = np.zeros(len(degree))
    for k in np.unique(degree[degree > 0]):
        units = first + np.flatnonzero(degree == k)
        base = draws[:, :k]
        # values drawn for a unit below the drawn index, and for one at or below it: the
        # gathers are done once, each unit then only selects between them
        drawn, shifted = y[base], y[base + 1]
        step = max(1, _BLOCK // (permutations * k))
        for start in range(0, len(units), step):
            block = units[start : start + step]
            values = np.where(base[None, :, :] >= block[:, None, None], shifted, drawn)
            slots = rows.indptr[block - first][:, None] + np.arange(k)
            lag = np.einsum("upk,uk->up", values, rows.data[slots])
            sims = stat(block, lag)
            larger[block - first] = (sims >= observed[block, None]).sum(axis=1)
            smaller[block - first] = (sims <= observed[block, None]).sum(axis=1)
    return larger, smaller


def _engine(client, chunk_size: int | None, n: int) -> dict[str, Any]:
    """The engine's parameters, recorded in results: none for the local path."""
    if client is None:
        if chunk_size is not None:
            raise InputError(
                "chunk_size only applies to the Dask engine",
                fix="pass client=geoclusters.distributed.client(), or drop chunk_size",
            )
        return {}
    from .distributed import _resolve_chunk_size

    return {"engine": "dask", "chunk_size": _resolve_chunk_size(client, n, chunk_size)}


def _linear_moments(others_mean, others_var, n_others, w_sum, w_sq):
    """Mean and variance of sum_j w_j X_j, X drawn without replacement from the others."""
    mean = w_sum * others_mean
    variance = others_var * (n_others * w_sq - w_sum**2) / (n_others - 1)
    return mean, variance


def _local_result(
    name: str,
    prep: _Prepared,
    statistic,
    expected,
    variance,
    larger,
    smaller,
    permutations,
    seed,
    transform,
    correction,
    alpha,
    missing,
    quadrant,
    cluster_high_low,
    extra_params,
) -> LocalResult:
    n_all = len(prep.ids)
    degree = np.diff(prep.weights.indptr)
    islands = degree == 0
    notes = list(prep.notes)
    if islands.any():
        notes.append(_island_note(islands, prep.ids[prep.used].to_numpy()))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (statistic - expected) / np.sqrt(variance)
    z = np.where(variance > 0, z, np.nan)
    p_norm = _one_sided(z)
    if permutations:
        p_value = _fold(larger, smaller, permutations)
    else:
        p_value = np.where(np.isnan(z), 1.0, p_norm)
    undefined = islands
    columns = {}
    for key, arr in {
        "statistic": statistic,
        "expected": expected,
        "variance": variance,
        "z": z,
        "p_value": p_value,
        "p_norm": p_norm,
    }.items():
        full = np.full(n_all, np.nan)
        full[prep.used] = np.where(undefined, np.nan, arr)
        columns[key] = full
    significant = np.asarray(adjust_pvalues(columns["p_value"], correction, alpha))

    high = np.full(n_all, None, dtype=object)
    used_high = np.where(undefined, None, cluster_high_low.astype(object))
    high[prep.used] = used_high
    cluster = np.full(n_all, None, dtype=object)
    defined = pd.notna(high)
    cluster[defined] = np.where(significant[defined], high[defined], NOT_SIGNIFICANT)
    quad_full = None
    if quadrant is not None:
        quad_full = high
    params = {
        "permutations": permutations,
        "seed": seed,
        "transform": transform,
        "correction": correction,
        "alpha": alpha,
        "missing": missing,
        "p_value": "permutation" if permutations else "normal",
        **extra_params,
    }
    return LocalResult(
        name=name,
        statistic=_frozen(columns["statistic"]),
        expected=_frozen(columns["expected"]),
        variance=_frozen(columns["variance"]),
        z=_frozen(columns["z"]),
        p_value=_frozen(columns["p_value"]),
        p_norm=_frozen(columns["p_norm"]),
        significant=_frozen(significant),
        quadrant=None if quad_full is None else _frozen(quad_full),
        cluster=_frozen(cluster),
        correction=correction,
        alpha=alpha,
        permutations=permutations,
        seed=seed,
        transform=transform,
        n=int(prep.used.sum()),
        ids=prep.ids,
        params=MappingProxyType(params),
        notes=tuple(notes),
    )


def local_moran(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    transform: str = "r",
    correction: str | None = None,
    alpha: float = 0.05,
    missing: str = "raise",
    client: Client | None = None,
    chunk_size: int | None = None,
) -> LocalResult:
    """Local Moran's I (LISA) with conditional permutation inference.

    ``I_i = (n - 1) * z_i * sum_j w_ij z_j / sum_k z_k**2`` (esda/GeoDa
    scaling; R spdep's values are these times ``n / (n - 1)``), with ``z`` the
    values standardised by their population standard deviation.

    Parameters
    ----------
    values : pandas.Series
        One value per area, indexed by area code (aligned with the graph ids).
    graph : libpysal.graph.Graph
    permutations : int, default 999
        Conditional permutations per area; 0 for analytic inference only.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.
    transform : {"r", "b"}, default "r"
    correction : {None, "fdr", "bonferroni"}, default None
        Multiple-testing correction applied for ``significant``.
    alpha : float, default 0.05
    missing : {"raise", "drop"}, default "raise"
    client : dask.distributed.Client, optional
        Run the conditional permutations on this Dask cluster, in chunks of
        areas (see :mod:`geoclusters.distributed`). The draws are the local
        path's, so every value, p-value included, is identical for a seed.
    chunk_size : int, optional
        Areas per Dask task, with ``client`` only; by default about four
        tasks per worker thread.

    Returns
    -------
    LocalResult
        ``quadrant`` is ``"HH"``, ``"LH"``, ``"LL"`` or ``"HL"`` for every
        defined area (a zero value or lag counts as low, as in esda); ``z`` is
        standardised with the exact conditional-permutation moments.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from libpysal.graph import Graph
    >>> ids = np.array(list("abcdef"))
    >>> g = Graph.from_arrays(ids[[0, 1, 1, 2, 3, 4, 4, 5]], ids[[1, 0, 2, 1, 4, 3, 5, 4]],
    ...                       np.ones(8))
    >>> y = pd.Series([1.0, 2.0, 1.5, 8.0, 9.0, 8.5], index=ids)
    >>> r = local_moran(y, g, permutations=99, seed=0)
    >>> r.quadrant.tolist()
    ['LL', 'LL', 'LL', 'HH', 'HH', 'HH']
    >>> bool(np.isclose(np.nansum(r.statistic), (6 - 1) * moran(y, g, 0).statistic))
    True
    """
    _check_permutations(permutations)
    check_choice("correction", correction, _CORRECTIONS)
    prep = _prepare(values, graph, transform, missing)
    y, w = prep.y, prep.weights
    n = len(y)
    engine = _engine(client, chunk_size, n)
    z = (y - y.mean()) / y.std()
    zz = float(z @ z)
    scale = (n - 1) / zz
    lag = w @ z
    statistic = scale * z * lag

    w_sum = np.asarray(w.sum(axis=1)).ravel()
    w_sq = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    # the other n-1 standardised values have mean -z_i/(n-1), since z sums to 0
    others_mean = -z / (n - 1)
    others_var = (zz - z**2) / (n - 1) - others_mean**2
    lag_mean, lag_var = _linear_moments(others_mean, others_var, n - 1, w_sum, w_sq)
    expected = scale * z * lag_mean
    variance = scale**2 * z**2 * lag_var

    larger, smaller = _conditional_counts(
        z,
        w,
        statistic,
        lambda units, sim_lag: scale * z[units, None] * sim_lag,
        permutations,
        seed,
        client,
        engine.get("chunk_size"),
    )
    quadrant = np.array(QUADRANTS, dtype=object)[
        np.where(z > 0, np.where(lag > 0, 0, 3), np.where(lag > 0, 1, 2))
    ]
    return _local_result(
        "local_moran",
        prep,
        statistic,
        expected,
        variance,
        larger,
        smaller,
        permutations,
        seed,
        transform,
        correction,
        alpha,
        missing,
        quadrant,
        quadrant,
        {"scaling": "esda/GeoDa: sum of local values = (n - 1) * I", **engine},
    )


def local_g(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    star: bool = True,
    transform: str = "r",
    correction: str | None = None,
    alpha: float = 0.05,
    missing: str = "raise",
    client: Client | None = None,
    chunk_size: int | None = None,
) -> LocalResult:
    """Getis-Ord local G (``star=False``) or G* (``star=True``): hot and cold spots.

    ``G_i = sum_{j != i} w_ij y_j / sum_{j != i} y_j``;
    ``G*_i = sum_j w*_ij y_j / sum_j y_j`` where ``w*`` adds a self-weight of 1
    before the transform (so a row-standardised G* averages the area and its
    neighbours, as in esda). Values must not be negative.

    Parameters
    ----------
    values : pandas.Series
        One non-negative value per area, indexed by area code.
    graph : libpysal.graph.Graph
    permutations : int, default 999
        Conditional permutations (the area's own value stays in place for G*).
    seed : int, optional
    star : bool, default True
        G* (the area counts in its own sum) instead of G.
    transform : {"r", "b"}, default "r"
    correction : {None, "fdr", "bonferroni"}, default None
    alpha : float, default 0.05
    missing : {"raise", "drop"}, default "raise"
    client : dask.distributed.Client, optional
        Run the conditional permutations on this Dask cluster, in chunks of
        areas (see :mod:`geoclusters.distributed`). The draws are the local
        path's, so every value, p-value included, is identical for a seed.
    chunk_size : int, optional
        Areas per Dask task, with ``client`` only; by default about four
        tasks per worker thread.

    Returns
    -------
    LocalResult
        ``quadrant`` is None; ``cluster`` is ``"hot"`` (significant, above its
        expectation), ``"cold"`` (significant, below) or ``"not significant"``.
        ``z`` uses the Getis-Ord moments under randomisation.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from libpysal.graph import Graph
    >>> ids = np.array(list("abcdef"))
    >>> g = Graph.from_arrays(ids[[0, 1, 1, 2, 3, 4, 4, 5]], ids[[1, 0, 2, 1, 4, 3, 5, 4]],
    ...                       np.ones(8))
    >>> y = pd.Series([1.0, 2.0, 1.5, 8.0, 9.0, 8.5], index=ids)
    >>> r = local_g(y, g, permutations=99, seed=0)
    >>> r.name, bool(r.z[4] > 0), bool(r.z[1] < 0)
    ('local_g_star', True, True)
    """
    _check_permutations(permutations)
    check_choice("correction", correction, _CORRECTIONS)
    prep = _prepare(values, graph, transform, missing)
    y = prep.y
    negative = y < 0
    if negative.any():
        raise InputError(
            "Getis-Ord G needs non-negative values",
            rows=prep.ids[prep.used][negative].tolist(),
            fix="use a count, rate or share, or local_moran for signed values",
        )
    n = len(y)
    engine = _engine(client, chunk_size, n)
    total = float(y.sum())
    total_sq = float((y**2).sum())
    if star:
        # self-weight as esda: 1 for binary weights, else the row's largest weight
        raw = prep.raw
        if transform == "b":
            full = sparse.csr_array(_transform(raw, "b") + sparse.eye_array(n, format="csr"))
        else:
            top = np.zeros(n)
            np.maximum.at(top, np.repeat(np.arange(n), np.diff(raw.indptr)), raw.data)
            full = _transform(sparse.csr_array(raw + sparse.diags_array(top)), "r")
        full.eliminate_zeros()
        self_weight = full.diagonal()
        w = full.copy()
        w.setdiag(0)
        w.eliminate_zeros()
        w.sort_indices()
        statistic = (full @ y) / total
        w_sum = np.asarray(full.sum(axis=1)).ravel()
        w_sq = np.asarray(full.multiply(full).sum(axis=1)).ravel()
        mean = total / n
        var = total_sq / n - mean**2
        lag_mean, lag_var = _linear_moments(mean, var, n, w_sum, w_sq)
        expected = lag_mean / total
        variance = lag_var / total**2

        def stat(units, sim_lag):
            return (self_weight[units, None] * y[units, None] + sim_lag) / total

    else:
        w = prep.weights
        rest = total - y
        statistic = (w @ y) / rest
        w_sum = np.asarray(w.sum(axis=1)).ravel()
        w_sq = np.asarray(w.multiply(w).sum(axis=1)).ravel()
        mean = rest / (n - 1)
        var = (total_sq - y**2) / (n - 1) - mean**2
        lag_mean, lag_var = _linear_moments(mean, var, n - 1, w_sum, w_sq)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = lag_mean / rest
            variance = lag_var / rest**2

        def stat(units, sim_lag):
            return sim_lag / rest[units, None]

    larger, smaller = _conditional_counts(
        y, w, statistic, stat, permutations, seed, client, engine.get("chunk_size")
    )
    hot_cold = np.where(statistic > expected, "hot", "cold")
    return _local_result(
        "local_g_star" if star else "local_g",
        prep,
        statistic,
        expected,
        variance,
        larger,
        smaller,
        permutations,
        seed,
        transform,
        correction,
        alpha,
        missing,
        None,
        hot_cold,
        {"star": star, **engine},
    )
