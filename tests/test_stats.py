"""Spatial statistics against esda (Columbus), GeoDa (the real TTWA map), exact
enumeration of permutation distributions, and Benjamini-Hochberg by hand."""

from __future__ import annotations

import itertools

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libpysal import examples
from libpysal.graph import Graph
from scipy import stats

import geoclusters as gc
from geoclusters.errors import InputError


@pytest.fixture(scope="module")
def columbus() -> tuple[pd.Series, Graph]:
    # columbus ships inside the libpysal package: no download needed
    frame = gpd.read_file(examples.get_path("columbus.shp"))
    frame.index = frame["POLYID"].astype(str)
    return frame["CRIME"], Graph.build_contiguity(frame, rook=False)


@pytest.fixture(scope="module")
def ttwa(ttwa_path) -> tuple[pd.Series, Graph]:
    areas = gc.read_areas(ttwa_path, code="ttwa11cd", name="ttwa11nm")
    log_area = np.log(areas.geometry.area).rename("log_area")
    return log_area, gc.contiguity(areas)


def path_graph(ids) -> Graph:
    """A chain a - b - c - ... built directly with libpysal."""
    ids = np.asarray(ids)
    focal = np.concatenate([ids[:-1], ids[1:]])
    neighbor = np.concatenate([ids[1:], ids[:-1]])
    return Graph.from_arrays(focal, neighbor, np.ones(len(focal)))


# ---------------------------------------------------------------------------
# esda on Columbus


def test_columbus_global_moran_reference_value(columbus):
    crime, graph = columbus
    result = gc.moran(crime, graph, permutations=99, seed=1, alternative="directed")
    assert result.statistic == pytest.approx(0.500188557, abs=1e-8)
    reference = esda.Moran(crime.to_numpy(), graph, permutations=0)
    assert result.statistic == pytest.approx(reference.I, abs=1e-10)
    assert result.expected == pytest.approx(reference.EI, abs=1e-12)
    assert result.variance == pytest.approx(reference.VI_rand, abs=1e-12)
    assert result.z == pytest.approx(reference.z_rand, abs=1e-9)
    assert result.p_norm == pytest.approx(reference.p_rand / 2, abs=1e-12)
    assert result.transform == "r" and result.n == 49 and result.params["seed"] == 1
    # the default test is two-sided: esda's p_rand
    two_sided = gc.moran(crime, graph, permutations=0)
    assert two_sided.alternative == "two-sided"
    assert two_sided.p_norm == pytest.approx(reference.p_rand, abs=1e-12)


def test_columbus_geary_matches_esda(columbus):
    crime, graph = columbus
    for transform in ("r", "b"):
        result = gc.geary(crime, graph, permutations=0, transform=transform)
        reference = esda.Geary(crime.to_numpy(), graph, transformation=transform, permutations=0)
        assert result.statistic == pytest.approx(reference.C, abs=1e-10)
        assert result.variance == pytest.approx(reference.VC_rand, abs=1e-12)
        assert result.z == pytest.approx(reference.z_rand, abs=1e-9)
        assert result.p_value == result.p_norm  # no permutations: analytic p


def test_columbus_local_moran_matches_esda(columbus):
    crime, graph = columbus
    result = gc.local_moran(crime, graph, permutations=9999, seed=7, alternative="directed")
    # permutations=0: esda's values without its numba engine, which compiles for minutes in
    # every new process; the pseudo p-values are compared in the slow test below
    reference = esda.Moran_Local(crime.to_numpy(), graph, permutations=0)
    np.testing.assert_allclose(result.statistic, reference.Is, rtol=0, atol=1e-10)
    esda_quadrants = np.array(["HH", "LH", "LL", "HL"])[reference.q - 1]
    assert (result.quadrant == esda_quadrants).all()
    # the esda/GeoDa scaling: local values sum to (n - 1) * I
    global_i = gc.moran(crime, graph, permutations=0).statistic
    assert result.statistic.sum() == pytest.approx(48 * global_i, abs=1e-10)
    binary = gc.local_moran(crime, graph, permutations=0, transform="b")
    reference_b = esda.Moran_Local(crime.to_numpy(), graph, transformation="b", permutations=0)
    np.testing.assert_allclose(binary.statistic, reference_b.Is, rtol=0, atol=1e-10)


def test_values_whose_variance_underflows_are_refused_by_name(columbus):
    crime, graph = columbus
    tiny = pd.Series(0.0, index=crime.index)
    tiny.iloc[0] = 4e-275
    for statistic in (gc.moran, gc.geary, gc.local_moran, gc.local_g):
        with pytest.raises(InputError, match="vary too little"):
            statistic(tiny, graph, permutations=9)


@pytest.mark.parametrize("scale", [1e-150, 1e-100, 1e-30, 1e30, 1e100])
def test_global_statistics_do_not_depend_on_the_scale_of_the_values(columbus, scale):
    # the moments use the kurtosis, a ratio of 4th powers that underflowed to 0 / 0 for tiny
    # values: every statistic and moment is scale-free and must stay so
    crime, graph = columbus
    for statistic in (gc.moran, gc.geary):
        plain = statistic(crime, graph, permutations=0)
        scaled = statistic(crime * scale, graph, permutations=0)
        for field in ("statistic", "expected", "variance", "z", "p_value"):
            assert getattr(scaled, field) == pytest.approx(getattr(plain, field), rel=1e-9)


@pytest.mark.parametrize("kind", ["shuffled ids", "integer ids", "row-standardised", "subgraph"])
def test_any_libpysal_graph_is_read_in_its_own_order(columbus, kind):
    # the weights are read from the adjacency's codes: every way of making a graph must
    # give esda's values, area by area, whatever the order of the values given
    crime, graph = columbus
    rng = np.random.default_rng(0)
    adjacency = graph.adjacency
    focal = adjacency.index.get_level_values("focal").to_numpy()
    neighbor = adjacency.index.get_level_values("neighbor").to_numpy()
    if kind == "shuffled ids":
        order = rng.permutation(len(focal))
        graph = Graph.from_arrays(focal[order], neighbor[order], adjacency.to_numpy()[order])
    elif kind == "integer ids":
        graph = Graph.from_arrays(focal.astype(int), neighbor.astype(int), adjacency.to_numpy())
        crime = crime.set_axis(crime.index.astype(int))
    elif kind == "row-standardised":
        graph = graph.transform("r")
    else:
        graph = graph.subgraph(graph.unique_ids[::-1][:30])
    values = crime.reindex(graph.unique_ids).sample(frac=1, random_state=1)
    result = gc.local_moran(values, graph, permutations=0)
    assert list(result.ids) == list(graph.unique_ids)
    reference = esda.Moran_Local(crime.reindex(graph.unique_ids).to_numpy(), graph, permutations=0)
    np.testing.assert_allclose(result.statistic, reference.Is, rtol=0, atol=1e-10)


@pytest.mark.slow
def test_columbus_local_moran_pvalues_match_esda(columbus):
    crime, graph = columbus
    result = gc.local_moran(crime, graph, permutations=9999, seed=7, alternative="directed")
    reference = esda.Moran_Local(crime.to_numpy(), graph, permutations=9999, seed=7)
    # different random streams, same null distribution: pseudo p-values close (with 9,999
    # permutations the Monte Carlo error of each is below 0.005)
    assert np.abs(result.p_value - reference.p_sim).max() < 0.03


@pytest.mark.parametrize("transform", ["r", "b"])
@pytest.mark.parametrize("star", [True, False])
def test_columbus_local_g_matches_esda(columbus, star, transform):
    crime, graph = columbus
    result = gc.local_g(
        crime,
        graph,
        permutations=9999,
        seed=3,
        star=star,
        transform=transform,
        alternative="directed",
    )
    reference = _esda_g(crime, graph, star, transform, permutations=0)
    np.testing.assert_allclose(result.statistic, reference.Gs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.expected, reference.EGs, rtol=0, atol=1e-12)
    if transform == "b":
        # esda's moments are exact for binary weights
        np.testing.assert_allclose(result.z, reference.Zs, rtol=0, atol=1e-9)
    assert result.name == ("local_g_star" if star else "local_g")
    assert result.quadrant is None


def _esda_g(crime, graph, star, transform, permutations):
    with pytest.warns(UserWarning) if star and transform == "r" else _no_warning():
        return esda.G_Local(
            crime.to_numpy(),
            graph,
            transform=transform.upper(),
            star=star,
            seed=3,
            permutations=permutations,
            n_jobs=1,
        )


@pytest.mark.slow
@pytest.mark.parametrize("transform", ["r", "b"])
@pytest.mark.parametrize("star", [True, False])
def test_columbus_local_g_pvalues_match_esda(columbus, star, transform):
    crime, graph = columbus
    result = gc.local_g(
        crime, graph, permutations=9999, seed=3, star=star, transform=transform,
        alternative="directed",
    )  # fmt: skip
    reference = _esda_g(crime, graph, star, transform, permutations=9999)
    assert np.abs(result.p_value - reference.p_sim).max() < 0.03


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_local_g_z_does_not_depend_on_weight_scale(columbus):
    # row-standardised G is binary G divided by each row's constant, so its z-score must be
    # the same; this holds with the sum-of-squared-weights variance
    crime, graph = columbus
    for star in (True, False):
        binary = gc.local_g(crime, graph, permutations=0, star=star, transform="b")
        row = gc.local_g(crime, graph, permutations=0, star=star, transform="r")
        np.testing.assert_allclose(binary.z, row.z, rtol=1e-10)


# ---------------------------------------------------------------------------
# analytic moments: exact, by enumerating every conditional permutation


def _enumerate_local(y, w, i, self_weight=0.0):
    """All equally likely neighbour assignments for unit i: values of the weighted sum."""
    others = [j for j in range(len(y)) if j != i]
    neighbour_weights = [w[i, j] for j in range(len(y)) if w[i, j] and j != i]
    sums = [
        self_weight * y[i] + sum(wk * y[j] for wk, j in zip(neighbour_weights, pick, strict=True))
        for pick in itertools.permutations(others, len(neighbour_weights))
    ]
    return np.array(sums)


def test_local_moran_moments_equal_the_exact_conditional_permutation_moments():
    ids = list("abcdefg")
    y = pd.Series([3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0], index=ids)
    pairs = ["ab", "ac", "be", "cd", "cg", "eg", "fg"]  # degrees 1 to 3
    focal = np.array([p[0] for p in pairs] + [p[1] for p in pairs])
    neighbor = np.array([p[1] for p in pairs] + [p[0] for p in pairs])
    graph = Graph.from_arrays(focal, neighbor, np.ones(len(focal)))
    result = gc.local_moran(y, graph, permutations=0)
    y = y.reindex(graph.unique_ids)  # the graph's order, which results follow
    n = len(y)
    z = (y.to_numpy() - y.mean()) / y.to_numpy().std()
    w = graph.transform("r").sparse.toarray()
    for i in range(n):
        lags = _enumerate_local(z, w, i)
        local = (n - 1) * z[i] * lags / (z @ z)
        assert result.expected[i] == pytest.approx(local.mean(), abs=1e-12)
        assert result.variance[i] == pytest.approx(local.var(), abs=1e-12)


@pytest.mark.parametrize("star", [True, False])
def test_local_g_moments_equal_the_exact_permutation_moments(star):
    y = pd.Series([3.0, 1.0, 4.0, 1.5, 9.0, 2.6], index=list("abcdef"))
    graph = path_graph(list("abcdef"))
    result = gc.local_g(y, graph, permutations=0, star=star, transform="b")
    values = y.to_numpy()
    w = graph.sparse.toarray()
    n = len(values)
    for i in range(n):
        if star:
            # G*: the area's own value is random too, every arrangement of all n values
            k = int(w[i].sum()) + 1
            sums = np.array([sum(p) for p in itertools.permutations(values, k)])
            g = sums / values.sum()
        else:
            g = _enumerate_local(values, w, i) / (values.sum() - values[i])
        assert result.expected[i] == pytest.approx(g.mean(), abs=1e-12)
        assert result.variance[i] == pytest.approx(g.var(), abs=1e-12)


# ---------------------------------------------------------------------------
# GeoDa on the real TTWA map


def test_ttwa_local_moran_matches_geoda(ttwa, ttwa_path):
    pygeoda = pytest.importorskip("pygeoda")
    log_area, graph = ttwa
    areas = gc.read_areas(ttwa_path, code="ttwa11cd", name="ttwa11nm")
    weights = pygeoda.queen_weights(pygeoda.open(areas.reset_index()))
    # cutoff 1: GeoDa labels the quadrant of every area, significant or not
    lisa = pygeoda.local_moran(weights, list(log_area.to_numpy()), significance_cutoff=1.0)
    ours = gc.local_moran(log_area, graph, permutations=99, seed=0)
    geoda_values = np.array(lisa.lisa_values())
    labels = np.array(lisa.lisa_labels(), dtype=object)[np.array(lisa.lisa_clusters())]
    isolated = labels == "Isolated"
    assert isolated.sum() == 5
    # GeoDa uses the same (n - 1) scaling as esda and geoclusters: factor 1
    np.testing.assert_allclose(ours.statistic[~isolated], geoda_values[~isolated], atol=1e-8)
    names = {"High-High": "HH", "Low-Low": "LL", "Low-High": "LH", "High-Low": "HL"}
    assert [names[x] for x in labels[~isolated]] == ours.quadrant[~isolated].tolist()
    # islands: undefined, not zero
    assert np.isnan(ours.statistic[isolated]).all()
    assert all(q is None for q in ours.quadrant[isolated])
    assert not ours.significant[isolated].any()
    assert any("without neighbours" in note for note in ours.notes)


def test_reproducible_with_a_seed(ttwa):
    log_area, graph = ttwa
    # no correction, folded p-values: the test as first written
    options = {"correction": None, "alternative": "directed"}
    first = gc.local_moran(log_area, graph, permutations=499, seed=11, **options)
    again = gc.local_moran(log_area, graph, permutations=499, seed=11, **options)
    other = gc.local_moran(log_area, graph, permutations=499, seed=12, **options)
    np.testing.assert_array_equal(first.p_value, again.p_value)
    defined = ~np.isnan(first.p_value)
    assert (first.p_value[defined] != other.p_value[defined]).any()
    clear = first.p_norm < 0.001
    assert clear.sum() >= 5
    assert first.significant[clear].all() and other.significant[clear].all()
    g_first = gc.local_g(log_area, graph, permutations=199, seed=5)
    g_again = gc.local_g(log_area, graph, permutations=199, seed=5)
    np.testing.assert_array_equal(g_first.p_value, g_again.p_value)
    m_first = gc.moran(log_area, graph, permutations=199, seed=5)
    assert m_first.p_value == gc.moran(log_area, graph, permutations=199, seed=5).p_value


# ---------------------------------------------------------------------------
# multiple testing


def test_benjamini_hochberg_by_hand():
    # m = 4, alpha = 0.1: BH thresholds k * 0.025 = 0.025, 0.05, 0.075, 0.1.
    # sorted p: 0.03 (rank 1, > 0.025), 0.045 (rank 2, <= 0.05), 0.07 (rank 3, <= 0.075),
    # 0.9 (rank 4, > 0.1): the largest passing rank is 3, so the three smallest are
    # rejected, 0.03 included although it fails at its own rank (step-up).
    p = [0.07, 0.9, 0.03, 0.045]
    assert gc.adjust_pvalues(p, "fdr", alpha=0.1).tolist() == [True, False, True, True]
    # Bonferroni: 0.1 / 4 = 0.025, nothing below
    assert not gc.adjust_pvalues(p, "bonferroni", alpha=0.1).any()
    assert gc.adjust_pvalues(p, None, alpha=0.1).tolist() == [True, False, True, True]
    # NaN (undefined tests) neither rejected nor counted: m stays 4
    with_nan = pd.Series([0.07, np.nan, 0.9, 0.03, 0.045], index=list("vwxyz"))
    mask = gc.adjust_pvalues(with_nan, "fdr", alpha=0.1)
    assert mask.to_dict() == {"v": True, "w": False, "x": False, "y": True, "z": True}


def test_fdr_agrees_with_scipy_adjusted_pvalues():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.01, 30), rng.uniform(0, 1, 300)])
    expected = stats.false_discovery_control(p, method="bh") <= 0.05
    assert (gc.adjust_pvalues(p, "fdr", alpha=0.05) == expected).all()


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=60),
    st.sampled_from([0.01, 0.05, 0.2]),
)
def test_fdr_matches_scipy_on_any_vector(p, alpha):
    expected = stats.false_discovery_control(np.array(p), method="bh") <= alpha
    assert (gc.adjust_pvalues(p, "fdr", alpha=alpha) == expected).all()


def test_correction_applies_to_significant(ttwa):
    log_area, graph = ttwa
    counts = {}
    for correction in (None, "fdr", "bonferroni"):
        result = gc.local_moran(log_area, graph, permutations=999, seed=2, correction=correction)
        expected = gc.adjust_pvalues(result.p_value, correction, alpha=0.05)
        assert (result.significant == expected).all()
        assert result.params["correction"] == correction
        counts[correction] = int(result.significant.sum())
    assert counts["bonferroni"] <= counts["fdr"] <= counts[None]
    frame = result.to_frame()
    assert frame.index.tolist() == log_area.index.tolist()
    assert list(frame.columns[:3]) == ["statistic", "expected", "variance"]
    assert {"p_value", "z", "significant", "quadrant", "cluster"} <= set(frame.columns)


# ---------------------------------------------------------------------------
# missing values and bad input


def test_missing_values_are_an_error_or_an_explicit_policy(columbus):
    crime, graph = columbus
    holes = crime.copy()
    holes.iloc[[4, 20]] = np.nan
    with pytest.raises(InputError, match="missing") as err:
        gc.local_moran(holes, graph, permutations=0)
    assert err.value.rows == [crime.index[4], crime.index[20]]
    with pytest.raises(InputError):
        gc.moran(holes, graph)
    dropped = gc.local_moran(holes, graph, permutations=0, missing="drop")
    frame = dropped.to_frame()
    assert frame.index.tolist() == crime.index.tolist()
    assert frame["statistic"].isna().sum() == 2
    assert dropped.n == 47
    # the same as esda on the graph without those two areas
    keep = holes.notna()
    sub = graph.subgraph(crime.index[keep])
    reference = esda.Moran_Local(crime[keep].to_numpy(), sub, permutations=0)
    np.testing.assert_allclose(frame["statistic"][keep], reference.Is, atol=1e-10)
    glob = gc.moran(holes, graph, permutations=0, missing="drop")
    assert glob.statistic == pytest.approx(
        esda.Moran(crime[keep].to_numpy(), sub, permutations=0).I
    )
    assert any("dropped" in note for note in glob.notes)


def test_values_must_match_the_graph(columbus):
    crime, graph = columbus
    with pytest.raises(InputError, match="no value") as err:
        gc.moran(crime.drop(index=["5", "9"]), graph)
    assert err.value.rows == ["5", "9"]
    with pytest.raises(InputError, match="not in the graph") as err:
        gc.local_g(pd.concat([crime, pd.Series({"X1": 3.0})]), graph)
    assert err.value.rows == ["X1"]
    # order does not matter: values align by code
    shuffled = crime.sample(frac=1, random_state=0)
    assert gc.moran(shuffled, graph, 0).statistic == pytest.approx(0.500188557, abs=1e-8)
    with pytest.raises(InputError, match="non-negative"):
        gc.local_g(crime - crime.mean(), graph)
    with pytest.raises(InputError, match="correction"):
        gc.local_moran(crime, graph, correction="holm")


def test_results_are_frozen(columbus):
    crime, graph = columbus
    result = gc.local_moran(crime, graph, permutations=9, seed=0)
    with pytest.raises(ValueError, match="read-only"):
        result.statistic[0] = 0.0
    with pytest.raises(AttributeError):
        result.alpha = 0.1
