"""The whole job: from boundaries and counts to clusters, conurbations and outputs.

:func:`run` chains the stages of the data flow — validation, sector
classification, period means and sector groups, detection, the contiguity
graph, local Moran's I, typology and conurbations — with one :class:`Config`,
and returns a :class:`RunResult` whose parts are plain (Geo)DataFrames.
:meth:`RunResult.write` writes the files a planner hands on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import time
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ._fields import FIELDS_FILE, flatten, write_mapping
from ._labels import normalise_label
from ._results import html_table
from .conurbations import Conurbations, membership, merge_conurbations
from .counts import TOTAL, check_area_codes, validate_counts
from .detect import Detection, detect_hotspots, detect_nesta2016, detect_thresholds, typology
from .detect import typology_summary as summarise_types
from .errors import InputError, check_choice, check_policy
from .measures import NESTA_2016_PERIODS, prepare
from .provenance import Provenance

METHODS = ("nesta2016", "hotspots", "thresholds")
_NULLABLE = (
    "groups",
    "periods",
    "correction",
    "seed",
    "lq_change_min",
    "sectors",
    "hub_min_links",
    "title",
    "scheduler",
    "workers",
)
MISSING_COUNTS = ("raise", "no data")


@dataclass(frozen=True)
class Config:
    """Every parameter of a run, with the Nesta 2016 defaults.

    Read one from TOML with :meth:`from_toml`; tables in the file (``[detect]``,
    ``[graph]``, ...) are only for readability, except ``[periods]`` (span
    label → years) and ``[groups.<measure>]`` (group → sectors). TOML has no
    null, so write ``"none"`` for ``None`` (``correction = "none"``).

    Attributes
    ----------
    method : {"nesta2016", "hotspots", "thresholds"}
        The detector.
    groups : "nesta2016", "auto", mapping or None
        Sector groups. ``"auto"`` uses the Nesta 2016 groups when the sectors
        are DCMS sub-sectors (or SIC-4 codes) and every sector as its own
        group otherwise.
    periods : mapping, pair or None
        Two spans to average, or two period labels; ``None`` picks the Nesta
        2016 spans when the counts have 2007–2014 and the two periods when
        the counts have exactly two.
    quantile, top_n : float, int
        Nesta rule size floor and list length.
    lq_min, count_min, lq_change_min : float
        Threshold rule.
    statistic, variable, correction, alpha, permutations, seed
        Hot spots and the LISA columns (``seed`` makes them reproducible).
    rook, tolerance, islands
        Contiguity graph (see :func:`geoclusters.contiguity`).
    match, sectors, hubs, hub_min_links, min_members
        Conurbations (see :func:`geoclusters.merge_conurbations`).
    lisa : bool
        Add local Moran quadrants of every group's LQ to the areas.
    missing_counts : {"raise", "no data"}
        What to do with areas that have no counts at all: refuse (the
        default), or leave them out of the analysis and keep them in every
        output with ``cluster_type`` ``"no data"`` (for example Northern
        Ireland's TTWAs with counts for Great Britain only). The 0.1 spelling
        ``"error"`` means ``"raise"`` (deprecated, removed in 0.3).
    scheduler : str or None
        Address of a running Dask scheduler (``"tcp://host:8786"``): the
        permutation tests run on its workers, with results identical to the
        local run.
    workers : int or None
        Start a local Dask cluster with this many workers for the run (not
        with ``scheduler``).
    title : str or None
        Report and map title.
    notes : tuple of str
        Caveats carried into the provenance and the report.
    """

    method: str = "nesta2016"
    groups: Any = "auto"
    periods: Any = None
    quantile: float = 0.75
    top_n: int = 10
    lq_min: float = 1.25
    count_min: float = 0.0
    lq_change_min: float | None = None
    statistic: str = "local_moran"
    variable: str = "lq"
    correction: str | None = "fdr"
    alpha: float = 0.05
    permutations: int = 999
    seed: int | None = 0
    rook: bool = False
    tolerance: float = 0.0
    islands: str = "keep"
    match: str = "group"
    sectors: tuple[str, ...] | None = None
    hubs: tuple[str, ...] = ()
    hub_min_links: int | None = None
    min_members: int = 2
    lisa: bool = True
    missing_counts: str = "raise"
    title: str | None = None
    notes: tuple[str, ...] = ()
    scheduler: str | None = None
    workers: int | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Config:
        """Build a config from a (possibly sectioned) mapping, refusing unknown keys.

        Examples
        --------
        >>> Config.from_mapping({"detect": {"top_n": 5}, "periods": {"a": [1], "b": [2]}}).top_n
        5
        """
        known = {f.name for f in dataclasses.fields(cls)}
        flat: dict[str, Any] = {}
        for key, value in values.items():
            if key in known:
                flat[key] = value
            elif isinstance(value, Mapping):
                flat.update(value)
            else:
                flat[key] = value
        unknown = sorted(set(flat) - known)
        if unknown:
            raise InputError(
                "unknown configuration keys",
                rows=unknown,
                fix=f"the known keys are {sorted(known)}",
            )
        for name in ("hubs", "sectors", "notes"):
            if isinstance(flat.get(name), list):
                flat[name] = tuple(flat[name])
        # TOML has no null: "none" stands for None where None is meaningful
        for name in _NULLABLE:
            if isinstance(flat.get(name), str) and flat[name].lower() == "none":
                flat[name] = None
        if "missing_counts" in flat:
            # "error" (0.1) means "raise", deprecated; "no data" names the repair
            flat["missing_counts"] = check_policy(
                "missing_counts", flat["missing_counts"], MISSING_COUNTS
            )
        config = cls(**flat)
        check_choice("method", config.method, METHODS)
        check_choice("missing_counts", config.missing_counts, MISSING_COUNTS)
        if config.workers is not None and (
            isinstance(config.workers, bool)
            or not isinstance(config.workers, int)
            or config.workers < 1
        ):
            raise InputError(
                f"workers={config.workers!r} is not a positive whole number",
                fix="set workers to the number of local Dask workers, e.g. 2",
            )
        if config.scheduler is not None and config.workers is not None:
            raise InputError(
                "scheduler and workers cannot both be set",
                fix="use scheduler= for a running cluster, or workers= for a local one",
            )
        return config

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Read a config from a TOML file."""
        try:
            with open(path, "rb") as handle:
                values = tomllib.load(handle)
        except FileNotFoundError as error:
            raise InputError(f"config file not found: {path}") from error
        except tomllib.TOMLDecodeError as error:
            raise InputError(f"config file {path} is not valid TOML: {error}") from error
        return cls.from_mapping(values)

    def replace(self, **changes: Any) -> Config:
        """A copy with some parameters changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dictionary."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, repr=False)
class RunResult:
    """Everything a run produced.

    Attributes
    ----------
    areas : geopandas.GeoDataFrame
        Every input area: name, typology and conurbation.
    clusters : pandas.DataFrame
        The selections (one row per area, measure, group and criterion).
    conurbations : geopandas.GeoDataFrame
        One row per conurbation (``merged.table``).
    summary : pandas.DataFrame
        Cluster types by region.
    graph : libpysal.graph.Graph
        The contiguity graph used.
    graph_report : geoclusters.graph.GraphReport
        Islands, components and links the island policy added.
    counts : pandas.DataFrame
        The tidy counts of the groups in the two periods.
    config : Config
    provenance : Provenance
    metrics : pandas.DataFrame
        The long per-area metrics (:func:`geoclusters.measures.metrics`).
    lisa : pandas.DataFrame
        Local Moran labels of every group's LQ: ``area, measure, group, label``.
    detection : geoclusters.detect.Detection
    merged : geoclusters.conurbations.Conurbations
        The conurbations with their links and merged metrics.
    """

    areas: gpd.GeoDataFrame
    clusters: pd.DataFrame
    conurbations: gpd.GeoDataFrame
    summary: pd.DataFrame
    graph: Any
    graph_report: Any
    counts: pd.DataFrame
    config: Config
    provenance: Provenance
    method_text: str = field(default="", repr=False)
    metrics: pd.DataFrame | None = None
    lisa: pd.DataFrame | None = None
    detection: Detection | None = None
    merged: Conurbations | None = None

    @property
    def synthetic(self) -> bool:
        """True when the input was the synthetic demo region."""
        return bool(self.areas.attrs.get("synthetic", False))

    @property
    def params(self) -> dict[str, Any]:
        """Every parameter of the run."""
        return dict(self.provenance.parameters)

    def __repr__(self) -> str:
        types = self.summary["total"]
        return (
            f"RunResult({self.config.method}: {len(self.areas)} areas, "
            f"{types.get('all clusters', 0)} clusters, {len(self.conurbations)} conurbations"
            + (", SYNTHETIC" if self.synthetic else "")
            + ")"
        )

    def _repr_html_(self) -> str:
        types = self.summary["total"]
        return html_table(
            "RunResult",
            [
                ("method", self.config.method),
                ("areas", len(self.areas)),
                *((t, int(types[t])) for t in types.index if t != "areas"),
                ("conurbations", len(self.conurbations)),
                ("synthetic", self.synthetic),
            ],
        )

    def write(
        self, out: str | Path, *legacy: bool, maps: bool = True, report: bool = True
    ) -> dict[str, Path]:
        """Write the outputs into a directory.

        Parameters
        ----------
        out : path
            Directory, created when missing.
        maps : bool, default True
            Also write ``map.png`` (typology), ``lisa.png`` and ``map.html``
            (interactive); needs the ``maps`` extra.
        report : bool, default True
            Also write the self-contained ``report.html``.

        Returns
        -------
        dict
            Output name → path: ``areas``, ``clusters``, ``conurbations``,
            ``summary``, ``provenance``, ``fields`` and, when asked, ``map``,
            ``lisa_map``, ``interactive_map``, ``report``.

        Notes
        -----
        The GeoPackages hold the metrics as flat fields without spaces
        (``businesses_content_lq``); ``fields.json`` maps every field back to
        its measure, group and metric, which is how ``geoclusters map --from``
        and ``report --from`` read them, whatever the names.
        """
        if legacy:
            warnings.warn(
                "RunResult.write(out, maps, report) by position is deprecated and will be "
                "removed in 0.3; pass maps= and report= by keyword",
                DeprecationWarning,
                stacklevel=2,
            )
            maps = legacy[0]
            report = legacy[1] if len(legacy) > 1 else report
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "areas": out / "areas.gpkg",
            "clusters": out / "clusters.csv",
            "conurbations": out / "conurbations.gpkg",
            "summary": out / "summary.csv",
            "provenance": out / "provenance.json",
            "fields": out / FIELDS_FILE,
        }
        area_fields, area_mapping = flatten(self._metrics(), self.lisa)
        areas = self.areas.join(area_fields)
        areas.to_file(paths["areas"], layer="areas", driver="GPKG", engine="pyogrio")
        self.clusters.to_csv(paths["clusters"], index=False)
        conurbations, conurbation_mapping = self.conurbations, {}
        merged_metrics = self.merged.metrics if self.merged is not None else None
        if merged_metrics is not None and len(merged_metrics):
            fields, conurbation_mapping = flatten(merged_metrics)
            conurbations = conurbations.join(fields)
            conurbations = conurbations[
                [c for c in conurbations.columns if c != "geometry"] + ["geometry"]
            ]
        _write_polygons(conurbations, paths["conurbations"], "conurbations")
        self.summary.to_csv(paths["summary"])
        self.provenance.write(paths["provenance"])
        write_mapping(paths["fields"], {"areas": area_mapping, "conurbations": conurbation_mapping})
        if maps:
            paths.update(self._write_maps(out))
        if report:
            from .report import write_report

            paths["report"] = write_report(
                self.areas,
                self.clusters,
                self.merged if self.merged is not None else self.conurbations,
                self.provenance.to_dict(),
                metrics=self.metrics,
                lisa=self.lisa,
                graph=self.graph,
                title=self.config.title,
                method=self.method_text,
                path=out / "report.html",
            )
        return paths

    def _metrics(self) -> pd.DataFrame:
        if self.metrics is None:
            return pd.DataFrame(columns=["area", "measure", "group", "metric", "value"])
        return self.metrics

    def _write_maps(self, out: Path) -> dict[str, Path]:
        return write_maps(
            self.areas,
            self.conurbations,
            metrics=self.metrics,
            lisa=self.lisa,
            title=self.config.title,
            path=out,
            notes=tuple(self.provenance.notes),
        )


def write_maps(
    areas: gpd.GeoDataFrame,
    conurbations=None,
    *,
    metrics: pd.DataFrame | None = None,
    lisa: pd.DataFrame | None = None,
    title: str | None = None,
    path: str | Path,
    formats: Sequence[str] = ("png",),
    dpi: int = 150,
    focus: Sequence[float] | Sequence[str] | None = None,
    inset: Sequence[float] | Sequence[str] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Path]:
    """Write the static maps (``map``, ``lisa``, ``map_focus``) and ``map.html``.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        A run's areas (``RunResult.areas``).
    conurbations : Conurbations or geopandas.GeoDataFrame, optional
    metrics, lisa : pandas.DataFrame, optional
        The long metrics and LISA tables (``RunResult.metrics``, ``.lisa``).
        ``lisa.<format>`` has one panel per measure and group.
    title : str, optional
    path : str or Path
        The directory to write into (created when missing).
    formats : sequence of {"png", "svg", "pdf"}, default ("png",)
        Every static map is written once per format.
    dpi : int, default 150
        Resolution of the PNG files (SVG and PDF are vector).
    focus : sequence, optional
        Area codes (or a bounding box in the areas' CRS) to zoom on: also
        writes ``map_focus.<format>``, the typology of that part only, e.g.
        Kent's TTWAs; ``map.html`` opens on them.
    inset : sequence, optional
        Area codes (or a bounding box) drawn enlarged in an inset of ``map``,
        e.g. London's local authorities.
    notes : sequence of str, optional
        The run's notes; approximate or synthetic data are flagged on
        ``map.html`` (see :func:`geoclusters.maps.interactive_map`).

    Returns
    -------
    dict
        ``map``, ``interactive_map`` and, when written, ``lisa_map`` and
        ``focus_map`` → the path of the first format; the other formats are
        keyed ``map_svg``, ``lisa_map_pdf``, ...
    """
    from .errors import check_choice

    formats = tuple(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    if not formats:
        raise InputError("formats is empty", fix="pass e.g. formats=('png', 'svg')")
    for fmt in formats:
        check_choice("formats", fmt, ("png", "svg", "pdf"))
    if isinstance(dpi, bool) or not isinstance(dpi, int | float) or not 20 <= dpi <= 1200:
        raise InputError(f"dpi={dpi!r} is not a resolution", fix="pass a dpi between 20 and 1200")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)

    from .maps import interactive_map, lisa_maps, typology_map

    paths: dict[str, Path] = {}

    def save(figure, key: str, stem: str) -> None:
        for i, fmt in enumerate(formats):
            target = out / f"{stem}.{fmt}"
            figure.savefig(target, dpi=dpi, bbox_inches="tight", facecolor="white", format=fmt)
            paths[key if i == 0 else f"{key}_{fmt}"] = target
        figure.clear()

    save(typology_map(areas, conurbations, title=title, inset=inset), "map", "map")
    if lisa is not None and len(lisa):
        save(lisa_maps(areas, lisa), "lisa_map", "lisa")
    if focus is not None:
        heading = f"{title or 'Industry cluster typology'} (detail)"
        save(
            typology_map(areas, conurbations, title=heading, extent=focus, label_areas=True),
            "focus_map",
            "map_focus",
        )
    paths["interactive_map"] = out / "map.html"
    interactive_map(
        areas,
        conurbations,
        metrics=metrics,
        lisa=lisa,
        title=title,
        notes=notes,
        focus=focus,
        path=paths["interactive_map"],
    )
    return paths


def _write_polygons(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    if len(frame):
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        return
    # an empty layer still needs a geometry type, or GDAL refuses to create it
    import pyogrio

    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", geometry_type="MultiPolygon")


Progress = Callable[[str], None]


def run(
    areas: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    config: Config | Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> RunResult:
    """Find clusters and conurbations: the whole job in one call.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas from :func:`geoclusters.read_areas`.
    counts : pandas.DataFrame
        Tidy counts with all-industry totals (sectors: SIC-4 codes, DCMS
        sub-sectors or any labels), one row per area, sector, period and
        measure, for every area.
    config : Config or mapping, optional
        Parameters; the Nesta 2016 defaults when omitted.
    progress : callable, optional
        Called with a message as each stage starts.
    **options
        Override single parameters of ``config``.

    Returns
    -------
    RunResult

    Examples
    --------
    >>> from geoclusters.datasets import demo_region
    >>> region = demo_region(seed=0)
    >>> result = run(region.areas, region.counts, lisa=False)
    >>> planted = result.areas.loc[list(region.planted["conurbation"])]
    >>> planted["conurbation_id"].nunique(), planted["cluster_type"].unique().tolist()
    (1, ['high concentration'])
    """
    config = _config(config, options)
    with _dask_client(config) as client:
        return _run(areas, counts, config, progress, client)


@contextlib.contextmanager
def _dask_client(config: Config):
    """The Dask client the config asks for (closed afterwards), or None."""
    if config.scheduler is None and config.workers is None:
        yield None
        return
    from .distributed import client

    dask_client = client(address=config.scheduler, n_workers=config.workers)
    try:
        yield dask_client
    finally:
        dask_client.close()


def _run(areas, counts, config: Config, progress, client) -> RunResult:
    say = progress or (lambda message: None)
    notes = list(config.notes)
    if areas.attrs.get("synthetic"):
        notes.insert(0, "SYNTHETIC DEMO DATA: the areas and counts are generated, not real.")

    say("checking counts against the areas")
    # the one validation of the run: every stage below gets valid counts
    counts = validate_counts(counts)
    all_areas = areas
    without = areas.index.difference(pd.Index(counts["area"].unique()))
    if len(without) and config.missing_counts == "no data":
        areas = areas.drop(index=without)
        notes.append(
            f"{len(without)} areas have no counts and are shown as 'no data': " + ", ".join(without)
        )
    check_area_codes(counts, areas)
    counts, groups = _classify(counts, config.groups)
    periods = _periods(counts, config.periods)

    say("averaging periods and grouping sectors")
    table, start, end = prepare(counts, groups, periods, _validated=True)

    say("building the contiguity graph")
    from .graph import contiguity

    graph, report = contiguity(
        areas,
        rook=config.rook,
        tolerance=config.tolerance,
        islands=config.islands,
        return_report=True,
    )

    say(f"detecting clusters ({config.method})")
    detection = _detect(config, areas, table, graph, client)
    clusters = detection.selections
    # the detector's metrics are the run's: computed once, on every measure and group
    area_metrics = detection.metrics

    say("typing clusters and computing measures")
    types = typology(areas, clusters)

    lisa = pd.DataFrame(columns=["area", "measure", "group", "label"])
    lisa_permutations = 0
    if config.lisa:
        say("local Moran's I for every group")
        lisa, lisa_permutations, lisa_notes = _lisa(area_metrics, graph, config, client)
        notes.extend(lisa_notes)

    say("merging clusters into conurbations")
    merged = merge_conurbations(
        areas,
        table,
        graph,
        clusters,
        match=config.match,
        sectors=config.sectors,
        hubs=config.hubs,
        hub_min_links=config.hub_min_links,
        min_members=config.min_members,
        periods=(start, end),
        _validated=True,
    )
    conurbations = merged.table
    members = membership(areas, conurbations)

    keep = ["name", *(c for c in ("data",) if c in areas.columns)]
    out = areas[keep].join(types.drop(columns="name")).join(members)
    out = gpd.GeoDataFrame(out, geometry=areas.geometry, crs=areas.crs)
    if len(areas) < len(all_areas):
        out = _with_no_data(out, all_areas)
    out.attrs = {"synthetic": bool(areas.attrs.get("synthetic", False))}
    conurbations.attrs["synthetic"] = out.attrs["synthetic"]

    parameters = config.to_dict() | {
        "groups": groups,
        "periods": periods,
        "start": start,
        "end": end,
        "hubs_excluded": merged.hubs,
        "permutations_used": lisa_permutations,
    }
    provenance = Provenance.record("run", parameters, notes=notes, areas=areas, counts=counts)
    return RunResult(
        areas=out,
        clusters=clusters,
        conurbations=conurbations,
        summary=summarise_types(out),
        graph=graph,
        graph_report=report,
        counts=table,
        config=config,
        provenance=provenance,
        method_text=describe(config, start, end, report),
        metrics=area_metrics,
        lisa=lisa,
        detection=detection,
        merged=merged,
    )


def _with_no_data(out: gpd.GeoDataFrame, all_areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every input area back in the output, those without counts marked ``"no data"``."""
    out = out.reindex(all_areas.index)
    lacking = ~all_areas.index.isin(out.dropna(subset=["cluster_type"]).index)
    out.loc[lacking, "name"] = all_areas.loc[lacking, "name"]
    out.loc[lacking, "is_cluster"] = False
    out.loc[lacking, "cluster_type"] = "no data"
    text = ["concentration_groups", "growth_groups", "conurbation", "conurbation_id"]
    out.loc[lacking, text] = ""
    out["is_cluster"] = out["is_cluster"].astype(bool)
    return out.set_geometry(all_areas.geometry)


def _config(config, options) -> Config:
    if config is None:
        config = Config()
    elif isinstance(config, Mapping):
        config = Config.from_mapping(config)
    if options:
        config = Config.from_mapping(config.to_dict() | options)
    return config


def _classify(counts: pd.DataFrame, groups):
    """Bring SIC-4 sectors to DCMS sub-sectors and resolve ``groups="auto"``."""
    from .taxonomy import SUBSECTORS, classify_counts, normalise_sic

    sectors = pd.Series(counts.loc[counts["sector"] != TOTAL, "sector"].unique())
    if sectors.empty:
        raise InputError("the counts have no sector rows, only totals")
    looks_like_sic = normalise_sic(sectors).str.fullmatch(r"\d{4}").all()
    if looks_like_sic:
        counts = classify_counts(counts, level="subsector")
        sectors = pd.Series(counts.loc[counts["sector"] != TOTAL, "sector"].unique())
    if groups == "auto":
        groups = "nesta2016" if sectors.isin(SUBSECTORS).all() else None
    return counts, groups


def _periods(counts: pd.DataFrame, periods):
    if periods is not None:
        return periods
    present = set(counts["period"])
    nesta = {str(year) for span in NESTA_2016_PERIODS.values() for year in span}
    if nesta <= present:
        return NESTA_2016_PERIODS
    if len(present) == 2:
        return sorted(present)
    raise InputError(
        f"cannot choose two periods from {sorted(present)}",
        fix="set periods in the config: two spans {label = [years]} or two period labels",
    )


def _detect(config: Config, areas, table, graph, client=None) -> Detection:
    common = {"groups": None, "periods": sorted(set(table["period"])), "_validated": True}
    if config.method == "nesta2016":
        return detect_nesta2016(
            areas, table, quantile=config.quantile, top_n=config.top_n, **common
        )
    if config.method == "thresholds":
        return detect_thresholds(
            areas,
            table,
            lq_min=config.lq_min,
            count_min=config.count_min,
            lq_change_min=config.lq_change_min,
            **common,
        )
    return detect_hotspots(
        areas,
        table,
        graph,
        statistic=config.statistic,
        variable=config.variable,
        correction=config.correction,
        alpha=config.alpha,
        permutations=config.permutations,
        seed=config.seed,
        client=client,
        **common,
    )


def _lisa(
    metrics: pd.DataFrame, graph, config: Config, client=None
) -> tuple[pd.DataFrame, int, list[str]]:
    """Local Moran labels of every group's second-period LQ, long, and the permutations used.

    When ``config.permutations`` cannot make any area significant under the
    chosen correction (or only if an implausible share of the areas all reach
    the smallest possible p-value), the permutations are raised to the smallest
    round count that can (99, 199, 499, 999, ..., at most 9,999), and a note
    says so. Areas without a value or without neighbours are ``"no data"``.
    """
    from ._significance import MAX_PERMUTATIONS, permutations_needed, reach
    from .stats import local_moran

    lq = metrics[metrics["metric"] == "lq"]
    isolates = set(map(str, graph.isolates))
    groups = [
        (key, rows.set_index("area")["value"])
        for key, rows in lq.groupby(["measure", "group"], sort=False, observed=True)
    ]
    groups = [(key, values) for key, values in groups if values.notna().sum() >= 3]
    tests = max(
        (
            int((values.notna() & ~values.index.astype(str).isin(isolates)).sum())
            for _, values in groups
        ),
        default=0,
    )
    used = config.permutations
    notes: list[str] = []
    if (
        used > 0
        and tests
        and not reach(used, tests, correction=config.correction, alpha=config.alpha).comfortable
    ):
        used = max(
            used,
            permutations_needed(
                tests, correction=config.correction, alpha=config.alpha, maximum=MAX_PERMUTATIONS
            ),
        )
        if used != config.permutations:
            notes.append(
                f"Local Moran (LISA) used {used} permutations instead of {config.permutations}: "
                f"with {config.permutations}, {config.correction or 'no'} correction at alpha "
                f"{config.alpha} over {tests} areas could find no significant area unless many "
                "reached the smallest possible p-value."
            )
    pieces = []
    for (measure, group), values in groups:
        options = {"client": client} if client is not None else {}
        result = local_moran(
            values,
            graph,
            permutations=used,
            seed=config.seed,
            correction=config.correction,
            alpha=config.alpha,
            missing="drop",
            **options,
        )
        label = [normalise_label(v) for v in result.cluster]
        pieces.append(
            pd.DataFrame(
                {
                    "area": pd.Index(result.ids).astype(str),
                    "measure": measure,
                    "group": group,
                    "label": label,
                }
            )
        )
    if not pieces:
        return pd.DataFrame(columns=["area", "measure", "group", "label"]), used, notes
    return pd.concat(pieces, ignore_index=True), used, notes


def describe(config: Config, start: str, end: str, report=None) -> str:
    """A plain-language description of what a run does, for the report."""
    if config.method == "nesta2016":
        detection = (
            f"For each measure and sector group, areas whose count in {end} is at or above the "
            f"{config.quantile:.0%} quantile of all areas are candidates for concentration; the "
            f"{config.top_n} with the highest location quotient (LQ) in {end} are selected. Areas "
            f"whose count in {start} is at or above the same quantile are candidates for growth; "
            f"the {config.top_n} with the largest relative change of LQ from {start} to {end} are "
            "selected. This is the rule of Nesta's 2016 report The Geography of Creativity in "
            "the UK."
        )
    elif config.method == "thresholds":
        detection = (
            f"Areas with an LQ in {end} of at least {config.lq_min} and a count of at least "
            f"{config.count_min} are concentration clusters"
            + (
                f"; areas whose LQ grew by at least {config.lq_change_min:.0%} are growth clusters."
                if config.lq_change_min is not None
                else "."
            )
        )
    else:
        detection = (
            f"Areas that are significant hot spots ({config.statistic}, on {config.variable}) "
            f"after {config.correction or 'no'} correction at alpha {config.alpha}, with "
            f"{config.permutations} conditional permutations (seed {config.seed}), are clusters."
        )
    graph = (
        f"Neighbours are areas that share a {'boundary' if config.rook else 'boundary or corner'}"
        + (f" (within {config.tolerance} CRS units)" if config.tolerance else "")
        + "; islands are "
        + ("linked to their nearest area." if config.islands == "nearest" else "kept alone.")
    )
    if report is not None and getattr(report, "islands", None):
        graph += f" Areas without neighbours: {len(report.islands)}."
    merging = (
        "Neighbouring clusters that share a specialised sector group (in concentration or in "
        "growth) are merged into conurbations: each conurbation is a connected set of such links"
        + (f"; hubs kept out of merges: {', '.join(config.hubs)}" if config.hubs else "")
        + "."
    )
    lq = (
        "The location quotient of a sector in an area is its share of the area's businesses (or "
        "jobs) divided by the sector's share nationally; above 1 means more specialised than the "
        "country."
    )
    return " ".join([lq, detection, graph, merging])


def progress_printer(total: int, stream=sys.stderr) -> Progress:
    """A progress reporter printing a bar per stage to ``stream``."""
    state = {"step": 0, "start": time.perf_counter()}

    def report(message: str) -> None:
        state["step"] += 1
        done = min(state["step"], total)
        bar = "#" * done + "-" * (total - done)
        elapsed = time.perf_counter() - state["start"]
        print(f"[{bar}] {done}/{total} {message} ({elapsed:.1f}s)", file=stream, flush=True)

    return report


def load_provenance(path: str | Path) -> dict[str, Any]:
    """Read a provenance JSON written by :meth:`RunResult.write`."""
    return json.loads(Path(path).read_text())
