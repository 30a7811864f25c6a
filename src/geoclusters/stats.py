"""Spatial autocorrelation: global Moran's I and Geary's C, local Moran and Getis-Ord G.

All statistics are computed with numpy and scipy sparse matrices and agree
with esda's on the same inputs (to 1e-10, tested); the permutation loops run in
compiled kernels (:mod:`geoclusters._kernels`), here or on a Dask cluster.
Global statistics return a :class:`GlobalResult`, local ones a
:class:`LocalResult`; both carry the parameters (``params``) and a
:class:`~geoclusters.provenance.Provenance`.

Conventions
-----------
Weights
    Row-standardised by default (``transform="r"``: each row sums to one), or
    binary (``"b"``). Areas without neighbours (islands) have an empty row: they
    add nothing to global statistics (as in esda) and their local statistics
    are undefined, so they are NaN and labelled ``"no data"``, never 0.
    Self-loops of a given graph are named in ``notes``: Moran, Geary and G
    ignore them (an area is not its own neighbour); G* uses them as the
    area's self-weight.

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
    neighbours' values from the other ``n - 1`` units. As in esda and GeoDa,
    one table of random draws (``permutations`` rows, as many columns as the
    largest number of neighbours) is drawn from ``0 .. n-2`` with
    ``numpy.random.default_rng(seed)`` and shared by all units, the draws at
    or above ``i`` being shifted by one to skip ``i`` itself; a seed
    reproduces every p-value, on any engine. Simulated values equal to the
    observed one (within a relative ``1e-11``, the rounding of a sum taken in
    another order) count as extreme in both tails.

    ``alternative`` chooses the test. With ``L`` and ``S`` the numbers of
    simulations at least as large / as small as the observed statistic and
    ``P`` the permutations:

    * ``"two-sided"`` (default): ``min(1, 2 * (min(L, S) + 1) / (P + 1))``,
      a test of size ``alpha`` in either direction;
    * ``"greater"``: ``(L + 1) / (P + 1)``, e.g. positive autocorrelation for
      Moran, a hot spot for G (Geary's C is *small* under positive
      autocorrelation: use ``"less"``);
    * ``"less"``: ``(S + 1) / (P + 1)``;
    * ``"directed"``: ``(min(L, S) + 1) / (P + 1)``, the folded pseudo p-value
      that esda (``p_sim``) and GeoDa report: the tail the observation lies
      in. Tested at ``alpha`` it rejects about ``2 * alpha`` of true nulls
      (measured: 9.5-10.7 % at 0.05), which is why it is not the default.

    The analytic ``p_norm`` follows the same ``alternative`` with the normal
    tail of ``z``; with ``permutations=0`` it is the ``p_value``.

    *Early stopping* (``early_stop=h``, local statistics): the sequential
    Monte Carlo test of Besag and Clifford (1991). Each unit stops permuting
    once ``h`` simulations were at least as extreme as its observation (in
    the tested tail; for two-sided and directed tests, in its nearer tail);
    its p-value is then ``h / l`` after ``l`` simulations (doubled, up to 1,
    for two-sided), else the full-run value. Units far from significance stop
    after a few dozen simulations, the others run all ``permutations``;
    ``LocalResult.simulations`` holds the number done.

    *Analytic*: ``z = (statistic - expected) / sqrt(variance)``. Global Moran
    and Geary use the moments under randomisation (Cliff and Ord); with
    ``n = 3`` these are undefined (NaN), as in esda. Local Moran uses the
    exact mean and variance of its conditional permutation distribution;
    local G uses the Getis-Ord moments, written with the sum of squared
    weights (``N * S1_i - W_i**2``), which is exact under randomisation for
    any weights. For binary weights this equals esda's formula; for
    row-standardised weights esda uses ``W_i * (N - W_i)`` (valid for binary
    weights only), so esda's row-standardised G z-scores differ from ours,
    while ours do not change with the weights' scale.

    *Multiple testing*: ``significant`` is ``p_value`` tested at ``alpha``
    after the ``correction`` (default ``"fdr"``, Benjamini-Hochberg; or
    ``"bonferroni"``, or None), see :func:`adjust_pvalues`.

Labels
    ``quadrant`` (local Moran) holds the codes ``"HH"``, ``"LH"``, ``"LL"``,
    ``"HL"``; ``cluster`` the map labels of :mod:`geoclusters._labels`:
    ``"High-High"`` ... where significant, ``"hot spot"`` / ``"cold spot"``
    for G (the direction of the conditional permutation test that gave the
    p-value), ``"not significant"``, and ``"no data"`` where the statistic is
    undefined (islands, dropped values, G with every other value zero).

Missing values
    ``values`` is aligned to the graph by area code; codes missing on either
    side are an error naming them. NaN values are an error unless
    ``missing="drop"``: those areas are then removed from the graph before
    anything is computed, their results are NaN, and they are listed in the
    result's ``notes``. Every input area appears in ``to_frame()``.

Engines
    ``client=`` (a :class:`dask.distributed.Client`) runs the permutations
    on a Dask cluster in chunks (``chunk_size`` units, or permutations for
    global statistics); every value, p-values included, is identical to the
    local path's for a seed. See :mod:`geoclusters.distributed`.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from scipy import sparse, stats

from . import _labels
from ._engine import chunk_size as _resolve_chunk_size
from ._engine import map_chunks
from ._kernels import permutation as kernels
from .errors import InputError, check_choice
from .provenance import Provenance

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
ALTERNATIVES = ("two-sided", "greater", "less", "directed")
"""The tests ``alternative=`` can choose; the first is the default."""
QUADRANTS = _labels.QUADRANT_CODES
NOT_SIGNIFICANT = _labels.NOT_SIGNIFICANT
# permutations of a global statistic drawn from one spawned seed: the unit of work that
# gives the same values on any engine
_GLOBAL_BATCH = 8


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    array.flags.writeable = False
    return array


def _html_table(title: str, rows: Mapping[str, Any]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
        f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table><caption>{html.escape(title)}</caption>{cells}</table>"


def _test_words(permutations: int, alternative: str) -> str:
    kind = f"{permutations} permutations" if permutations else "normal approximation"
    return f"{alternative}, {kind}"


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
        Mean and variance under randomisation (analytic; NaN for ``n = 3``).
    z : float
        ``(statistic - expected) / sqrt(variance)``.
    p_value : float
        Permutation pseudo p-value for ``alternative`` (``p_norm`` when
        ``permutations == 0``).
    p_norm : float
        Normal p-value of ``z`` for ``alternative``.
    significant : bool
        ``p_value <= alpha``.
    alpha : float
    alternative : str
        ``"two-sided"``, ``"greater"``, ``"less"`` or ``"directed"``.
    permutations : int
    seed : int or None
    transform : str
    n : int
        Number of areas used.
    params : mapping
        Every parameter of the call.
    notes : tuple of str
        Islands, dropped areas, self-loops and other caveats.
    provenance : Provenance
        Step, parameters and fingerprints of the values and the graph.
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
    alternative: str
    permutations: int
    seed: int | None
    transform: str
    n: int
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = ()
    provenance: Provenance | None = field(default=None, compare=False)

    @property
    def correction(self) -> None:
        """Deprecated: always None (a single test needs no correction); removed in 0.3."""
        return self._gone("correction")

    @property
    def quadrant(self) -> None:
        """Deprecated: always None (local statistics only); removed in 0.3."""
        return self._gone("quadrant")

    @property
    def cluster(self) -> None:
        """Deprecated: always None (local statistics only); removed in 0.3."""
        return self._gone("cluster")

    def _gone(self, name: str) -> None:
        warnings.warn(
            f"GlobalResult.{name} is always None and will be removed in 0.3; "
            "it only has a meaning for local statistics (LocalResult)",
            DeprecationWarning,
            stacklevel=3,
        )

    def __repr__(self) -> str:
        return (
            f"GlobalResult({self.name}: statistic={self.statistic:.4g}, z={self.z:.3g}, "
            f"p={self.p_value:.3g} ({_test_words(self.permutations, self.alternative)}), "
            f"n={self.n}{', ' + str(len(self.notes)) + ' note(s)' if self.notes else ''})"
        )

    def _repr_html_(self) -> str:
        rows = {
            "statistic": f"{self.statistic:.6g}",
            "expected": f"{self.expected:.6g}",
            "z": f"{self.z:.4g}",
            "p-value": f"{self.p_value:.4g}",
            "test": _test_words(self.permutations, self.alternative),
            "significant": f"{self.significant} (alpha {self.alpha})",
            "areas": self.n,
        }
        for i, note in enumerate(self.notes):
            rows[f"note {i + 1}"] = note
        return _html_table(f"global {self.name}", rows)

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
            "alternative": self.alternative,
            "permutations": self.permutations,
            "n": self.n,
        }
        return pd.DataFrame([row], index=pd.Index([self.name], name="statistic_name"))


@dataclass(frozen=True, eq=False)
class LocalResult:
    """A local statistic for every area, with its inference.

    Arrays are read-only and follow ``ids``; areas dropped for missing values
    and islands hold NaN (``significant`` False, ``cluster`` ``"no data"``).

    Attributes
    ----------
    name : str
        ``"local_moran"``, ``"local_g"`` or ``"local_g_star"``.
    statistic, expected, variance, z, p_value, p_norm : numpy.ndarray
        As for :class:`GlobalResult`, one value per area.
    significant : numpy.ndarray of bool
        ``p_value`` tested at ``alpha`` after ``correction``.
    quadrant : numpy.ndarray of object or None
        Local Moran only (None for G): ``"HH"``, ``"LH"``, ``"LL"`` or ``"HL"``
        (value high or low against the spatial lag), None where undefined.
    cluster : numpy.ndarray of object
        The map label (:mod:`geoclusters._labels`): ``"High-High"``,
        ``"Low-High"``, ``"Low-Low"``, ``"High-Low"`` (local Moran) or
        ``"hot spot"``/``"cold spot"`` (local G) where significant,
        ``"not significant"`` elsewhere, ``"no data"`` where undefined.
    simulations : numpy.ndarray of int
        Permutations done for each area (``permutations``, fewer where early
        stopping stopped, 0 where undefined).
    correction : str or None
    alpha : float
    alternative : str
    permutations : int
    seed : int or None
    transform : str
    n : int
        Number of areas used (after dropping missing values).
    ids : pandas.Index
        Area codes, in graph order.
    params : mapping
    notes : tuple of str
    provenance : Provenance
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
    simulations: np.ndarray
    correction: str | None
    alpha: float
    alternative: str
    permutations: int
    seed: int | None
    transform: str
    n: int
    ids: pd.Index
    params: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    provenance: Provenance | None = field(default=None, compare=False)

    def counts(self) -> pd.Series:
        """Number of areas per ``cluster`` label, in legend order."""
        labels = _labels.MORAN_LABELS if self.quadrant is not None else _labels.G_LABELS
        found = pd.Series(self.cluster).value_counts()
        return found.reindex(labels, fill_value=0).rename("areas")

    def __repr__(self) -> str:
        counts = self.counts()
        shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        correction = self.correction or "no correction"
        return (
            f"LocalResult({self.name}: {len(self.ids)} areas, "
            f"{_test_words(self.permutations, self.alternative)}, {correction} at "
            f"{self.alpha}; {shown}"
            f"{'; ' + str(len(self.notes)) + ' note(s)' if self.notes else ''})"
        )

    def _repr_html_(self) -> str:
        rows = {
            "areas": len(self.ids),
            "test": _test_words(self.permutations, self.alternative),
            "multiple testing": f"{self.correction or 'none'} at alpha {self.alpha}",
        }
        rows.update({label: int(v) for label, v in self.counts().items()})
        for i, note in enumerate(self.notes):
            rows[f"note {i + 1}"] = note if len(note) < 200 else note[:200] + " ..."
        return _html_table(self.name, rows)

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
    self_weights: np.ndarray  # the graph's diagonal between the areas used (self-loops)


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


def _graph_arrays(graph: Graph) -> tuple[pd.Index, sparse.csr_array]:
    """The graph's ids (in graph order) and its weights as a CSR matrix, zeros dropped.

    The same as ``graph.unique_ids`` and ``graph.sparse``, read straight from
    the adjacency's integer codes: at a million areas libpysal's versions hash
    every string id and pivot through a pandas sparse frame, seconds spent
    before any statistic. libpysal keeps a graph canonical (each focal area's
    rows together, the levels of both ids in graph order); any other layout
    is read by libpysal itself.
    """
    adjacency = graph.adjacency
    index = adjacency.index
    focal, neighbor = (np.asarray(c, dtype=np.int64) for c in index.codes)
    ids = index.levels[0]
    firsts = np.r_[True, focal[1:] != focal[:-1]] if len(focal) else np.zeros(0, bool)
    canonical = np.array_equal(focal[firsts], np.arange(len(ids))) and index.levels[1].equals(ids)
    if not canonical:
        return pd.Index(graph.unique_ids), sparse.csr_array(graph.sparse, dtype=float)
    weights = adjacency.to_numpy(dtype=float)
    matrix = sparse.csr_array((weights, (focal, neighbor)), shape=(len(ids), len(ids)))
    matrix.eliminate_zeros()
    return ids, matrix


def _transform(matrix: sparse.csr_array, transform: str) -> sparse.csr_array:
    """Binary (``"b"``) or row-standardised (``"r"``) copy; empty rows stay empty."""
    out = matrix.copy()
    if transform == "b":
        out.data[:] = 1.0
        return out
    rows = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, rows, out=np.zeros_like(rows), where=rows != 0)
    out.data *= np.repeat(scale, np.diff(out.indptr))
    out.sort_indices()
    return out


def _prepare(values, graph, transform: str, missing: str, self_loops: str) -> _Prepared:
    """Align values to the graph, drop missing areas on request, and transform the weights.

    ``self_loops`` is what the caller does with a self-loop of the graph, for the note.
    """
    graph = _as_graph(graph)
    check_choice("transform", transform, _TRANSFORMS)
    check_choice("missing", missing, _MISSING)
    ids, raw = _graph_arrays(graph)
    if isinstance(values, pd.Series):
        # already in graph order (the usual case): nothing to hash or reindex
        if not values.index.equals(ids):
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
    if nan.any():
        raw = sparse.csr_array(raw[used][:, used])
    diagonal = raw.diagonal()
    loops = diagonal != 0
    if loops.any():
        codes = ids[used][loops]
        notes.append(
            f"{int(loops.sum())} area(s) have a self-loop in the graph ("
            + ", ".join(map(str, codes[:10]))
            + (" ..." if len(codes) > 10 else "")
            + "): "
            + self_loops
        )
    raw.setdiag(0)
    raw.eliminate_zeros()
    raw.sort_indices()
    y = y[used]
    if len(y) < 3:
        raise InputError(f"need at least three areas with values, got {len(y)}")
    if np.ptp(y) == 0:
        raise InputError("values are all equal, so no autocorrelation can be measured")
    if not np.var(y) >= np.finfo(float).tiny:
        # differences so small (around 1e-154 or less) that their squares underflow
        raise InputError(
            "values vary too little for their variance to be computed (it underflows in "
            "floating point), so no autocorrelation can be measured",
            fix="rescale the values, e.g. multiply them by a large constant",
        )
    return _Prepared(
        y=y,
        weights=_transform(raw, transform),
        raw=raw,
        ids=ids,
        used=used,
        notes=notes,
        self_weights=diagonal,
    )


def _island_note(islands: np.ndarray, ids: np.ndarray) -> str:
    return (
        f"{int(islands.sum())} area(s) without neighbours, local statistic undefined (NaN): "
        + ", ".join(map(str, ids[islands]))
    )


def _check_permutations(permutations: int) -> None:
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer):
        raise InputError(f"permutations must be an integer, got {permutations!r}")
    if permutations < 0:
        raise InputError(f"permutations must be zero or positive, got {permutations}")


def _check_options(alternative: str, alpha: float) -> None:
    check_choice("alternative", alternative, ALTERNATIVES)
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")


def _permutation_p(larger, smaller, done, permutations: int, alternative: str):
    """Pseudo p-values from the tail counts (see the module docstring)."""
    larger = np.asarray(larger, dtype=float)
    smaller = np.asarray(smaller, dtype=float)
    if alternative == "greater":
        extreme = larger
    elif alternative == "less":
        extreme = smaller
    else:
        extreme = np.minimum(larger, smaller)
    p = (extreme + 1.0) / (permutations + 1.0)
    done = np.asarray(done)
    stopped = (done > 0) & (done < permutations)
    # Besag and Clifford (1991): h extremes after l simulations give p = h / l
    p = np.where(stopped, extreme / np.where(stopped, done, 1), p)
    if alternative == "two-sided":
        p = np.minimum(1.0, 2.0 * p)
    return p


def _normal_p(z, alternative: str):
    z = np.asarray(z, dtype=float)
    if alternative == "greater":
        return stats.norm.sf(z)
    if alternative == "less":
        return stats.norm.cdf(z)
    tail = stats.norm.sf(np.abs(z))
    return np.minimum(1.0, 2.0 * tail) if alternative == "two-sided" else tail


def _graph_fingerprint(matrix: sparse.csr_array) -> tuple[np.ndarray, ...]:
    """The weights as arrays, for the provenance's fingerprint."""
    return (
        matrix.indptr.astype(np.int64, copy=False),
        matrix.indices.astype(np.int64, copy=False),
        np.ascontiguousarray(matrix.data, dtype=np.float64).view(np.int64),
    )


def _engine_params(client, size) -> dict[str, Any]:
    return {} if client is None else {"engine": "dask", "chunk_size": size}


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
    alternative: str,
    client,
    chunk_size: int | None,
) -> GlobalResult:
    _check_permutations(permutations)
    _check_options(alternative, alpha)
    prep = _prepare(values, graph, transform, missing, "ignored, an area is not its own neighbour")
    y, w = prep.y, prep.weights
    n = len(y)
    size = _resolve_chunk_size(client, permutations, chunk_size, minimum=_GLOBAL_BATCH)
    s0, s1, s2 = _weight_sums(w)
    if s0 == 0:
        raise InputError("the graph has no links between the areas used, so nothing to measure")
    z = y - y.mean()
    zz = float(z @ z)
    # kurtosis does not depend on scale: computed on z / max|z|, whose 4th powers of
    # tiny values do not underflow to 0 / 0
    unit = z / np.abs(z).max()
    kurtosis = n * float((unit**4).sum()) / float(unit @ unit) ** 2
    degree = np.diff(w.indptr)
    if (degree == 0).any():
        prep.notes.append(
            _island_note(degree == 0, prep.ids[prep.used].to_numpy())
            + "; they enter the global statistic with a zero spatial lag"
        )
    if n <= 3:
        prep.notes.append("with 3 areas the moments under randomisation are undefined (NaN)")
    with np.errstate(divide="ignore", invalid="ignore"):
        n_ = np.float64(n)
        if name == "moran":
            # Moran's I: n / S0 * z'Wz / z'z, and its moments under randomisation
            statistic = float(n / s0 * float(z @ (w @ z)) / zz)
            expected = -1.0 / (n_ - 1)
            a = n_ * ((n_ * n_ - 3 * n_ + 3) * s1 - n_ * s2 + 3 * s0**2)
            b = kurtosis * ((n_ * n_ - n_) * s1 - 2 * n_ * s2 + 6 * s0**2)
            variance = (a - b) / ((n_ - 1) * (n_ - 2) * (n_ - 3) * s0**2) - expected**2
            base = z
            spread = float(np.abs(z).max()) ** 2
        else:
            # Geary's C: (n - 1) sum w_ij (y_i - y_j)^2 / (2 S0 z'z), moments under
            # randomisation
            coo = w.tocoo()
            statistic = float((n - 1) * float(((y[coo.row] - y[coo.col]) ** 2) @ coo.data))
            statistic /= 2 * s0 * zz
            expected = 1.0
            a = (n_ - 1) * s1 * (n_ * n_ - 3 * n_ + 3 - (n_ - 1) * kurtosis)
            b = 0.25 * (n_ - 1) * s2 * (n_ * n_ + 3 * n_ - 6 - (n_ * n_ - n_ + 2) * kurtosis)
            c = s0**2 * (n_ * n_ - 3 - (n_ - 1) ** 2 * kurtosis)
            variance = (a - b + c) / (n_ * (n_ - 2) * (n_ - 3) * s0**2)
            base = y
            spread = float(np.ptp(y)) ** 2
        variance = float(variance) if np.isfinite(variance) else float("nan")
        z_score = float((statistic - expected) / np.sqrt(variance))
    p_norm = float(_normal_p(z_score, alternative))
    if permutations:
        kind = "moran" if name == "moran" else "geary"
        csr = (w.indptr.astype(np.int64), w.indices.astype(np.int64), w.data)
        observed = kernels.observed_global(kind, base, *csr)
        sims = np.concatenate(
            map_chunks(
                kernels.global_batches,
                _global_chunks(seed, permutations, size),
                shared=(kind, base, *csr),
                client=client,
            )
        )
        tolerance = kernels.TIE_TOLERANCE * float(np.abs(w.data).sum()) * spread
        larger = int((sims >= observed - tolerance).sum())
        smaller = int((sims <= observed + tolerance).sum())
        p_value = float(_permutation_p(larger, smaller, permutations, permutations, alternative))
    else:
        p_value = p_norm
    params = {
        "permutations": permutations,
        "seed": seed,
        "transform": transform,
        "alpha": alpha,
        "alternative": alternative,
        "missing": missing,
        "moments": "randomisation",
        "p_value": "permutation" if permutations else "normal",
        **_engine_params(client, size),
    }
    return GlobalResult(
        name=name,
        statistic=statistic,
        expected=float(expected),
        variance=variance,
        z=z_score,
        p_value=p_value,
        p_norm=p_norm,
        significant=bool(p_value <= alpha),
        alpha=alpha,
        alternative=alternative,
        permutations=permutations,
        seed=seed,
        transform=transform,
        n=n,
        params=MappingProxyType(params),
        notes=tuple(prep.notes),
        provenance=Provenance.record(
            name, params, prep.notes, values=y, graph=_graph_fingerprint(w)
        ),
    )


def _global_chunks(seed, permutations: int, size: int | None) -> list[tuple]:
    """Batches of permutations, each with its own spawned seed, grouped into chunks.

    The batches do not depend on the engine, so neither do the simulated values.
    """
    counts = [
        min(_GLOBAL_BATCH, permutations - start) for start in range(0, permutations, _GLOBAL_BATCH)
    ]
    seeds = np.random.SeedSequence(seed).spawn(len(counts))
    per_chunk = len(counts) if size is None else max(1, -(-size // _GLOBAL_BATCH))
    return [
        (seeds[start : start + per_chunk], counts[start : start + per_chunk])
        for start in range(0, len(counts), per_chunk)
    ]


def moran(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    transform: str = "r",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    missing: str = "raise",
    client: Client | None = None,
    chunk_size: int | None = None,
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
    alternative : {"two-sided", "greater", "less", "directed"}, default "two-sided"
        The test (see the module docstring); ``"greater"`` for Moran's I tests
        positive autocorrelation, for Geary's C negative autocorrelation.
    missing : {"raise", "drop"}, default "raise"
        NaN values are an error, or their areas are removed from the graph.
    client : dask.distributed.Client, optional
        Run the permutations on this Dask cluster; the values are identical to
        the local path's for a seed.
    chunk_size : int, optional
        Permutations per Dask task, with ``client`` only.

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
    return _global(
        "moran",
        values,
        graph,
        permutations,
        seed,
        transform,
        alpha,
        missing,
        alternative,
        client,
        chunk_size,
    )


def geary(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    transform: str = "r",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    missing: str = "raise",
    client: Client | None = None,
    chunk_size: int | None = None,
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
    alternative : {"two-sided", "greater", "less", "directed"}, default "two-sided"
        The test (see the module docstring); ``"greater"`` for Moran's I tests
        positive autocorrelation, for Geary's C negative autocorrelation.
    missing : {"raise", "drop"}, default "raise"
        NaN values are an error, or their areas are removed from the graph.
    client : dask.distributed.Client, optional
        Run the permutations on this Dask cluster; the values are identical to
        the local path's for a seed.
    chunk_size : int, optional
        Permutations per Dask task, with ``client`` only.

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
    return _global(
        "geary",
        values,
        graph,
        permutations,
        seed,
        transform,
        alpha,
        missing,
        alternative,
        client,
        chunk_size,
    )


# ---------------------------------------------------------------------------
# local statistics


def _linear_moments(others_mean, others_var, n_others, w_sum, w_sq):
    """Mean and variance of sum_j w_j X_j, X drawn without replacement from the others."""
    mean = w_sum * others_mean
    variance = others_var * (n_others * w_sq - w_sum**2) / (n_others - 1)
    return mean, variance


def _check_early_stop(early_stop, permutations: int) -> int:
    if early_stop is None:
        return 0
    if isinstance(early_stop, bool) or not isinstance(early_stop, int | np.integer):
        raise InputError(f"early_stop must be an integer or None, got {early_stop!r}")
    if not 1 <= early_stop < permutations:
        raise InputError(
            f"early_stop must be between 1 and permutations - 1 ({permutations - 1}), "
            f"got {early_stop}",
            fix="a common choice is early_stop=10 with permutations=999 or more",
        )
    return int(early_stop)


def _local_counts(y, w, sign, permutations, seed, alternative, stop, client, size):
    """Tail counts and simulations done per unit, through the engine."""
    n = len(y)
    degree = np.diff(w.indptr)
    zeros = np.zeros(n, dtype=np.int64)
    if permutations == 0 or degree.max() == 0:
        return zeros, zeros, zeros
    draws = kernels.neighbour_draws(seed, n, int(degree.max()), permutations)
    tail = {"greater": kernels.UPPER, "less": kernels.LOWER}.get(alternative, kernels.BOTH)
    indptr = w.indptr.astype(np.int64)
    indices = w.indices.astype(np.int64)
    starts = [0] if size is None else range(0, n, size)
    chunks = []
    for first in starts:
        last = n if size is None else min(n, first + size)
        lo, hi = indptr[first], indptr[last]
        chunks.append(
            (
                indptr[first : last + 1] - lo,
                indices[lo:hi],
                w.data[lo:hi],
                first,
                sign[first:last],
                client is None,
            )
        )
    parts = map_chunks(
        kernels.conditional_counts, chunks, shared=(y, draws, tail, stop), client=client
    )
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))


def _local_result(
    name: str,
    prep: _Prepared,
    statistic,
    expected,
    variance,
    counts,
    direction,
    undefined,
    quadrant,
    params: dict[str, Any],
) -> LocalResult:
    """Assemble a LocalResult: p-values, correction, labels, provenance.

    ``direction`` is +1 (high / hot) or -1 (low / cold) per unit;
    ``undefined`` marks units whose statistic has no meaning (islands, ...).
    """
    permutations = params["permutations"]
    alternative = params["alternative"]
    larger, smaller, done = counts
    n_all = len(prep.ids)
    notes = list(prep.notes)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (statistic - expected) / np.sqrt(variance)
    z = np.where(variance > 0, z, np.nan)
    p_norm = _normal_p(z, alternative)
    if permutations:
        p_value = _permutation_p(larger, smaller, done, permutations, alternative)
    else:
        p_value = np.where(np.isnan(z), 1.0, p_norm)
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
    significant = np.asarray(
        adjust_pvalues(columns["p_value"], params["correction"], params["alpha"])
    )
    simulations = np.zeros(n_all, dtype=np.int64)
    simulations[prep.used] = np.where(undefined, 0, done)

    defined = np.zeros(n_all, dtype=bool)
    defined[prep.used] = ~undefined
    cluster = np.full(n_all, _labels.NO_DATA, dtype=object)
    cluster[defined] = _labels.NOT_SIGNIFICANT
    if quadrant is not None:
        quad_full = np.full(n_all, None, dtype=object)
        quad_full[prep.used] = np.where(undefined, None, quadrant)
        hit = significant & defined
        cluster[hit] = [_labels.QUADRANT_LABELS[q] for q in quad_full[hit]]
        quad_full = _frozen(quad_full)
    else:
        quad_full = None
        hot = np.zeros(n_all, dtype=bool)
        hot[prep.used] = direction > 0
        cluster[significant & defined] = np.where(
            hot[significant & defined], _labels.HOT, _labels.COLD
        )
    inputs_graph = _graph_fingerprint(prep.raw)
    values = np.full(n_all, np.nan)
    values[prep.used] = prep.y
    return LocalResult(
        name=name,
        statistic=_frozen(columns["statistic"]),
        expected=_frozen(columns["expected"]),
        variance=_frozen(columns["variance"]),
        z=_frozen(columns["z"]),
        p_value=_frozen(columns["p_value"]),
        p_norm=_frozen(columns["p_norm"]),
        significant=_frozen(significant),
        quadrant=quad_full,
        cluster=_frozen(cluster),
        simulations=_frozen(simulations),
        correction=params["correction"],
        alpha=params["alpha"],
        alternative=alternative,
        permutations=permutations,
        seed=params["seed"],
        transform=params["transform"],
        n=int(prep.used.sum()),
        ids=prep.ids,
        params=MappingProxyType(params),
        notes=tuple(notes),
        provenance=Provenance.record(name, params, notes, values=values, graph=inputs_graph),
    )


def _local_params(
    permutations, seed, transform, correction, alpha, alternative, missing, stop, client, size
) -> dict[str, Any]:
    return {
        "permutations": permutations,
        "seed": seed,
        "transform": transform,
        "correction": correction,
        "alpha": alpha,
        "alternative": alternative,
        "missing": missing,
        "early_stop": stop or None,
        "p_value": "permutation" if permutations else "normal",
        **_engine_params(client, size),
    }


def local_moran(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    transform: str = "r",
    correction: str | None = "fdr",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    early_stop: int | None = None,
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
    correction : {"fdr", "bonferroni", None}, default "fdr"
        Multiple-testing correction applied for ``significant``.
    alpha : float, default 0.05
    alternative : {"two-sided", "greater", "less", "directed"}, default "two-sided"
        The test (see the module docstring). ``"directed"`` is esda's
        ``p_sim`` and GeoDa's p-value.
    early_stop : int, optional
        Besag-Clifford sequential test: stop permuting an area once this many
        simulations were as extreme as its observation (e.g. 10).
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
        defined area (a zero value or lag counts as low, as in esda);
        ``cluster`` the label; ``z`` is standardised with the exact
        conditional-permutation moments.

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
    _check_options(alternative, alpha)
    stop = _check_early_stop(early_stop, permutations)
    prep = _prepare(values, graph, transform, missing, "ignored, an area is not its own neighbour")
    y, w = prep.y, prep.weights
    n = len(y)
    size = _resolve_chunk_size(client, n, chunk_size)
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

    counts = _local_counts(
        z, w, np.sign(z).astype(np.int8), permutations, seed, alternative, stop, client, size
    )
    quadrant = np.array(QUADRANTS, dtype=object)[
        np.where(z > 0, np.where(lag > 0, 0, 3), np.where(lag > 0, 1, 2))
    ]
    islands = np.diff(w.indptr) == 0
    if islands.any():
        prep.notes.append(_island_note(islands, prep.ids[prep.used].to_numpy()))
    params = _local_params(
        permutations, seed, transform, correction, alpha, alternative, missing, stop, client, size
    )
    params["scaling"] = "esda/GeoDa: sum of local values = (n - 1) * I"
    return _local_result(
        "local_moran",
        prep,
        statistic,
        expected,
        variance,
        counts,
        None,
        islands,
        quadrant,
        params,
    )


def local_g(
    values: pd.Series,
    graph: Graph,
    permutations: int = 999,
    seed: int | None = None,
    *,
    star: bool = True,
    transform: str = "r",
    correction: str | None = "fdr",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    early_stop: int | None = None,
    missing: str = "raise",
    client: Client | None = None,
    chunk_size: int | None = None,
) -> LocalResult:
    """Getis-Ord local G (``star=False``) or G* (``star=True``): hot and cold spots.

    ``G_i = sum_{j != i} w_ij y_j / sum_{j != i} y_j``;
    ``G*_i = sum_j w*_ij y_j / sum_j y_j`` where ``w*`` adds a self-weight
    before the transform (so a row-standardised G* averages the area and its
    neighbours, as in esda): the graph's own self-loop where it has one, else
    1 for binary weights and the row's largest weight for row-standardised
    ones (esda's choice). Values must not be negative.

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
    correction : {"fdr", "bonferroni", None}, default "fdr"
    alpha : float, default 0.05
    alternative : {"two-sided", "greater", "less", "directed"}, default "two-sided"
        ``"greater"`` tests for hot spots only, ``"less"`` for cold spots.
    early_stop : int, optional
        Besag-Clifford sequential test (see :func:`local_moran`).
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
        ``quadrant`` is None; ``cluster`` is ``"hot spot"`` or ``"cold spot"``
        where significant (the tail of the conditional permutation test the
        observation lies in; the sign of ``z`` against the analytic
        expectation without permutations), ``"not significant"`` elsewhere.
        ``z`` uses the Getis-Ord moments under randomisation. For G, an area
        whose every other value is zero has no defined statistic ("no data").

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
    _check_options(alternative, alpha)
    stop = _check_early_stop(early_stop, permutations)
    prep = _prepare(
        values,
        graph,
        transform,
        missing,
        "kept as the area's self-weight" if star else "ignored, G leaves the area itself out",
    )
    y = prep.y
    negative = y < 0
    if negative.any():
        raise InputError(
            "Getis-Ord G needs non-negative values",
            rows=prep.ids[prep.used][negative].tolist(),
            fix="use a count, rate or share, or local_moran for signed values",
        )
    n = len(y)
    size = _resolve_chunk_size(client, n, chunk_size)
    total = float(y.sum())
    total_sq = float((y**2).sum())
    raw = prep.raw
    islands = np.diff(raw.indptr) == 0
    undefined = islands.copy()
    if star:
        # w* is w plus a self-weight, kept apart from the off-diagonal weights: the
        # permutations draw only the neighbours, and no sparse matrix is rebuilt
        if transform == "b":
            w = _transform(raw, "b")
            self_weight = np.ones(n)
        else:
            degree = np.diff(raw.indptr)
            top = np.zeros(n)
            rows = degree > 0
            top[rows] = np.maximum(np.maximum.reduceat(raw.data, raw.indptr[:-1][rows]), 0.0)
            diagonal = np.where(prep.self_weights != 0, prep.self_weights, top)
            row_total = np.asarray(raw.sum(axis=1)).ravel() + diagonal
            scale = np.divide(1.0, row_total, out=np.zeros(n), where=row_total != 0)
            w = raw.copy()
            w.data *= np.repeat(scale, degree)
            w.eliminate_zeros()
            self_weight = diagonal * scale
        statistic = (w @ y + self_weight * y) / total
        w_sum = np.asarray(w.sum(axis=1)).ravel() + self_weight
        w_sq = np.asarray(w.multiply(w).sum(axis=1)).ravel() + self_weight**2
        mean = total / n
        var = total_sq / n - mean**2
        lag_mean, lag_var = _linear_moments(mean, var, n, w_sum, w_sq)
        expected = lag_mean / total
        variance = lag_var / total**2
        sign = np.ones(n, dtype=np.int8)
        # the mean of the conditional permutation distribution, for a tie in the counts
        conditional = (self_weight * y + (w_sum - self_weight) * (total - y) / (n - 1)) / total
    else:
        w = prep.weights
        rest = total - y
        # every other value zero: G_i = 0 / 0, no statistic to test
        empty = rest <= 0
        if (empty & ~islands).any():
            prep.notes.append(
                f"{int((empty & ~islands).sum())} area(s) where every other value is zero, "
                "local G undefined (NaN): "
                + ", ".join(map(str, prep.ids[prep.used][empty & ~islands][:10]))
            )
        undefined |= empty
        safe_rest = np.where(empty, 1.0, rest)
        statistic = (w @ y) / safe_rest
        w_sum = np.asarray(w.sum(axis=1)).ravel()
        w_sq = np.asarray(w.multiply(w).sum(axis=1)).ravel()
        mean = rest / (n - 1)
        var = (total_sq - y**2) / (n - 1) - mean**2
        lag_mean, lag_var = _linear_moments(mean, var, n - 1, w_sum, w_sq)
        expected = lag_mean / safe_rest
        variance = lag_var / safe_rest**2
        sign = np.where(empty, 0, 1).astype(np.int8)
        conditional = expected
    if islands.any():
        prep.notes.append(_island_note(islands, prep.ids[prep.used].to_numpy()))

    counts = _local_counts(y, w, sign, permutations, seed, alternative, stop, client, size)
    larger, smaller, _ = counts
    if permutations:
        # the tail of the conditional permutation test: where its p-value comes from
        direction = np.sign(smaller - larger)
        tie = direction == 0
        direction[tie] = np.where(statistic[tie] > conditional[tie], 1, -1)
    else:
        direction = np.where(statistic > expected, 1, -1)
    params = _local_params(
        permutations, seed, transform, correction, alpha, alternative, missing, stop, client, size
    )
    params["star"] = star
    return _local_result(
        "local_g_star" if star else "local_g",
        prep,
        statistic,
        expected,
        variance,
        counts,
        direction,
        undefined,
        None,
        params,
    )
