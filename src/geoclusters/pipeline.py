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
import numpy as np
import pandas as pd

from ._accounting import InputAccount, Ledger, SetAside
from ._config import check_fields, check_groups, check_periods, setting, unknown_keys
from ._fields import FIELDS_FILE, flatten, write_mapping
from ._labels import normalise_label
from ._outputs import (
    MAPS_INSTALL,
    RENAMED,
    atomic_folder,
    check_format,
    check_target,
    map_options,
    missing_modules,
    read_json,
    write_layer,
)
from ._readers import read_table
from ._results import html_table
from ._warn import warn_user
from .conurbations import Conurbations, membership, merge_conurbations
from .counts import TOTAL, check_area_codes, validate_counts
from .detect import Detection, detect_hotspots, detect_nesta2016, detect_thresholds, typology
from .detect import typology_summary as summarise_types
from .errors import ConfigError, InputError, ReadError, check_policy
from .measures import NESTA_2016_PERIODS, prepare
from .provenance import Provenance

METHODS = ("nesta2016", "hotspots", "thresholds")
MISSING_COUNTS = ("raise", "no data")


def _missing_counts(name: str, value: Any) -> Any:
    # "error" (0.1) means "raise", deprecated; "no data" names the repair
    return check_policy(name, value, MISSING_COUNTS) if value in ("error", "report") else value


def _link_weights(name: str, value: Any) -> tuple[float, ...]:
    weights = tuple(value)
    if len(weights) != 3 or any(w < 0 for w in weights) or not sum(weights) > 0:
        raise ConfigError(
            f"{name}={value!r} must be three non-negative weights, not all zero",
            fix=f"write {name} = [0.4, 0.3, 0.3] (shared groups, commuting, likeness)",
        )
    return weights


@dataclass(frozen=True)
class Config:
    """Every parameter of a run, with the Nesta 2016 defaults.

    Every field is checked where the config is made (``Config(...)``,
    ``run(**options)``, :meth:`from_mapping`, :meth:`from_toml`, the command
    line): its type and range, with a :class:`ConfigError` naming the field
    and what to write. Numbers in quotes are refused, not converted; a
    single code where a list is expected (``hubs = "E30000234"``) is a list
    of that one code.

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
        Nesta rule size floor (a fraction from 0 to 1) and list length (1 or
        more).
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
    conurbation_method : {"cohesion", "louvain", "components"}
        How conurbations are built from the links between clusters
        (:func:`geoclusters.merge_conurbations` ``method``); ``"components"``
        is the 0.1 merge.
    flows : str or None
        Path of a commuting CSV (``origin, destination, count`` on the area
        codes) for the link strengths; ``run(..., flows=table)`` passes a
        table instead.
    find_hubs : bool
        With no ``hubs`` named, find hubs from the links (``True``), or keep
        none out (``False``).
    min_strength : float
        Weakest link between clusters that may join a conurbation, in [0, 1].
    link_weights : tuple of float
        Weights of the shared-groups, commuting and profile-likeness scores in
        a link's strength (shared, flow, similarity).
    max_diameter : int or None
        Most kept links between two members of a conurbation.
    max_members : int or None
        Largest conurbation.
    alternative : {"two-sided", "greater", "less", "directed"}
        The permutation test of the hot spots and the LISA columns
        (:func:`geoclusters.stats.local_moran`); ``"directed"`` is the folded
        one-sided pseudo p-value esda and GeoDa report, in effect a test at
        twice ``alpha``. The LISA permutations rise automatically when the
        smallest p-value this test can give could not pass the correction
        (recorded as ``permutations_used``).
    sensitivity_runs : int
        Re-run detection and merging this many times over perturbed counts
        and the parameter grid (:func:`geoclusters.sensitivity`); 0 (the
        default) skips it.

    Raises
    ------
    ConfigError
        For a value of the wrong type or out of range, naming the field.

    Examples
    --------
    >>> Config(hubs="E30000234").hubs
    ('E30000234',)
    >>> try:
    ...     Config(quantile="0.75")
    ... except ConfigError as error:
    ...     print(error.problem)
    quantile='0.75' is text, not a number
    """

    method: str = setting("nesta2016", choices=METHODS, help="the detector")
    # setting() returns a dataclasses.field, as field() does
    groups: Any = setting(  # noqa: RUF009
        "auto", check=check_groups, nullable=True, help="sector groups (a TOML table)"
    )
    periods: Any = setting(  # noqa: RUF009
        None, check=check_periods, nullable=True, help="two period labels (or spans in TOML)"
    )
    quantile: float = setting(0.75, low=0, high=1, help="the share of areas below the size floor")
    top_n: int = setting(10, low=1, help="Nesta rule: areas per measure, group and criterion")
    lq_min: float = setting(1.25, low=0, help="threshold rule: LQ floor")
    count_min: float = setting(0.0, low=0, help="threshold rule: count floor")
    lq_change_min: float | None = setting(None, help="threshold rule: growth floor")
    statistic: str = setting(
        "local_moran", choices=("local_moran", "gi_star"), help="hot spot statistic"
    )
    variable: str = setting("lq", choices=("lq", "lq_change"), help="hot spot variable")
    correction: str | None = setting(
        "fdr", choices=("fdr", "bonferroni", None), help="multiple-testing correction"
    )
    alpha: float = setting(
        0.05, low=0, high=1, low_open=True, high_open=True, help="significance level"
    )
    permutations: int = setting(999, low=0, help="conditional permutations")
    seed: int | None = setting(0, low=0, help="random seed of the permutations")
    rook: bool = setting(False, help="rook instead of queen contiguity")
    tolerance: float = setting(0.0, low=0, help="fuzzy contiguity distance in CRS units")
    islands: str = setting("keep", choices=("keep", "nearest"), help="island policy")
    match: str = setting(
        "group", choices=("group", "measure_group"), help="conurbations: what links clusters"
    )
    sectors: tuple[str, ...] | None = setting(None, help="conurbations: only these groups link")
    hubs: tuple[str, ...] = setting((), help="conurbations: area codes kept out of merges")
    hub_min_links: int | None = setting(None, low=1, help="conurbations: links making a hub")
    min_members: int = setting(2, low=1, help="smallest conurbation")
    lisa: bool = setting(True, help="local Moran columns for every group")
    missing_counts: str = setting(
        "raise", choices=MISSING_COUNTS, check=_missing_counts, help="areas without counts"
    )
    title: str | None = setting(None, help="title of the maps and the report")
    notes: tuple[str, ...] = setting((), help="caveats for the provenance and the report")
    scheduler: str | None = setting(None, help="Dask scheduler address")
    workers: int | None = setting(None, low=1, help="local Dask workers")
    conurbation_method: str = setting(
        "cohesion",
        choices=("cohesion", "louvain", "components"),
        help="conurbations: how clusters are merged",
    )
    flows: str | None = setting(
        None, help="conurbations: commuting CSV (origin, destination, count)"
    )
    find_hubs: bool = setting(True, help="conurbations: find hubs from the links")
    min_strength: float = setting(0.3, low=0, high=1, help="conurbations: weakest link kept")
    link_weights: tuple[float, ...] = setting(
        (0.4, 0.3, 0.3),
        check=_link_weights,
        help="conurbations: weights of shared groups, commuting and likeness",
    )
    max_diameter: int | None = setting(2, low=1, help="conurbations: most links between members")
    max_members: int | None = setting(8, low=2, help="conurbations: largest conurbation")
    sensitivity_runs: int = setting(0, low=0, help="robustness re-runs (0: off)")
    alternative: str = setting(
        "two-sided",
        choices=("two-sided", "greater", "less", "directed"),
        help="permutation test of hot spots and LISA (directed: the folded esda/GeoDa p)",
    )

    def __post_init__(self) -> None:
        for name, value in check_fields(self).items():
            object.__setattr__(self, name, value)
        if self.scheduler is not None and self.workers is not None:
            raise ConfigError(
                "scheduler and workers cannot both be set",
                fix="use scheduler= for a running cluster, or workers= for a local one",
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Config:
        """Build a config from a (possibly sectioned) mapping, refusing unknown keys.

        Tables whose name is not a field (``[detect]``, ``[graph]``, ...) are
        read as their keys; an unknown key is a :class:`ConfigError` that
        suggests the closest field name.

        Examples
        --------
        >>> Config.from_mapping({"detect": {"top_n": 5}, "periods": {"a": [1], "b": [2]}}).top_n
        5
        """
        known = [f.name for f in dataclasses.fields(cls)]
        flat: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in values.items():
            if key in known:
                flat[key] = value
            elif isinstance(value, Mapping):
                for inner, item in value.items():
                    if inner in known:
                        flat[inner] = item
                    else:
                        unknown.append(f"{key}.{inner}")
            else:
                unknown.append(key)
        if unknown:
            raise unknown_keys(unknown, known)
        return cls(**flat)

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Read a config from a TOML file."""
        try:
            with open(path, "rb") as handle:
                values = tomllib.load(handle)
        except FileNotFoundError as error:
            raise ConfigError(f"config file not found: {path}", fix="check the path") from error
        except IsADirectoryError as error:
            raise ConfigError(
                f"config path is a folder, not a file: {path}", fix="name the TOML file"
            ) from error
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"config file {path} is not valid TOML: {error}",
                fix="check the line named; text values need quotes, lists brackets",
            ) from error
        try:
            return cls.from_mapping(values)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error.problem}", error.rows, error.fix) from None

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
    accounting : Ledger
        How many areas and count rows came in, went out and were set aside
        and why, for every input step (``accounting.lines()``); also in
        ``provenance.json``.
    links : pandas.DataFrame
        Every pair of neighbouring clusters, scored and explained
        (``merged.links``: ``from, to, from_name, to_name, shared, flow,
        similarity, strength, kept, why``, ...); written as ``links.csv``.
    sensitivity : geoclusters.sensitivity.Sensitivity or None
        How robust each cluster and conurbation is, with
        ``sensitivity_runs`` > 0.
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
    accounting: Ledger | None = None
    links: pd.DataFrame | None = None
    sensitivity: Any = None

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
        self,
        out: str | Path,
        *legacy: bool,
        maps: bool = True,
        report: bool = True,
        format: str = "gpkg",
        overwrite: bool = False,
        map_formats: Sequence[str] | None = None,
        dpi: int | None = None,
        focus: Sequence[str] | None = None,
        inset: Sequence[str] | None = None,
        detail_limit: int | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Path]:
        """Write the outputs into a folder, whole or not at all.

        Parameters
        ----------
        out : path
            The folder. It is written as a temporary folder beside it and
            moved into place at the end, so it never holds a half-written run
            or files of two runs.
        maps : bool, default True
            Also write ``map.png`` (typology), ``lisa.png`` and ``map.html``
            (interactive). They need the ``maps`` extra: without it they are
            skipped (with the report) and one warning says how to install it.
        report : bool, default True
            Also write the self-contained ``report.html`` (needs the ``maps``
            extra too).
        format : {"gpkg", "parquet", "fgb", "shp"}, default "gpkg"
            Format of ``areas`` and ``conurbations``: GeoPackage, GeoParquet
            (needs pyarrow), FlatGeobuf or shapefile (field names longer than
            ten characters are shortened; ``fields.json`` maps them back).
        overwrite : bool, default False
            Replace a previous run's folder whole. Without it a folder that
            holds files is refused; with it, so is a folder that is not a
            previous run (no ``provenance.json``).
        map_formats : sequence of {"png", "svg", "pdf"}, optional
            Image formats of the static maps (by default PNG).
        dpi : int, optional
            Resolution of raster maps.
        focus : sequence of str, optional
            Area codes of a detail map (``map_focus.png``, also in the
            report); the interactive map opens on them.
        inset : sequence of str, optional
            Area codes of a dense part drawn enlarged in an inset.
        detail_limit : int, optional
            Above this many areas the maps are drawn for their size (see
            :func:`write_maps`); by default 20,000.
        progress : callable, optional
            Called with a message as each part is written.

        Returns
        -------
        dict
            Output name → path: ``areas``, ``clusters``, ``conurbations``,
            ``summary``, ``provenance``, ``fields`` and, when written, ``map``,
            ``lisa_map``, ``interactive_map``, ``report``.

        Raises
        ------
        OutputError
            For an output that is a file, a place that cannot be written, or
            a folder that holds files (see ``overwrite``); checked before
            anything is written.
        MissingExtraError
            For ``format="parquet"`` without pyarrow.

        Notes
        -----
        The layers hold the metrics as flat fields without spaces
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
        check_format(format)
        drawing = map_options(write_maps, map_formats, dpi, detail_limit) if maps else {}
        if maps:
            drawing |= {k: tuple(v) for k, v in (("focus", focus), ("inset", inset)) if v}
        target = check_target(out, overwrite=overwrite)
        say = progress or (lambda message: None)
        if (maps or report) and missing_modules():
            skipped = " and ".join(
                n for n, wanted in (("maps", maps), ("report", report)) if wanted
            )
            warn_user(
                f"{skipped} not written: the maps extra is not installed "
                f"({', '.join(missing_modules())}); get {'it' if skipped == 'report' else 'them'} "
                f"with {MAPS_INSTALL}"
            )
            maps = report = False
        with atomic_folder(target, overwrite=overwrite) as folder:
            say(f"writing the tables ({format})")
            paths = self._write_tables(folder, format)
            if maps:
                say("writing the maps")
                paths.update(self._write_maps(folder, **drawing))
            if report:
                say("writing the report")
                from .report import write_report

                paths["report"] = write_report(
                    self.areas,
                    self.clusters,
                    self.merged if self.merged is not None else self.conurbations,
                    self._record(),
                    metrics=self.metrics,
                    lisa=self.lisa,
                    graph=self.graph,
                    links=self.links,
                    sensitivity=self.sensitivity,
                    focus=tuple(focus) if focus else None,
                    title=self.config.title,
                    method=self.method_text,
                    path=folder / "report.html",
                )
        return {key: target / path.relative_to(folder) for key, path in paths.items()}

    def _record(self) -> dict[str, Any]:
        """The provenance as written to ``provenance.json``, with the accounting."""
        record = self.provenance.to_dict()
        if self.accounting is not None:
            record["accounting"] = self.accounting.to_dict()
        return record

    def _write_tables(self, folder: Path, format: str) -> dict[str, Path]:
        paths = {
            "clusters": folder / "clusters.csv",
            "summary": folder / "summary.csv",
            "provenance": folder / "provenance.json",
            "fields": folder / FIELDS_FILE,
        }
        area_fields, area_mapping = flatten(self._metrics(), self.lisa)
        paths["areas"], areas_renamed = write_layer(
            self.areas.join(area_fields), folder, "areas", format
        )
        self.clusters.to_csv(paths["clusters"], index=False)
        if self.links is not None:
            paths["links"] = folder / "links.csv"
            self.links.to_csv(paths["links"], index=False)
        if self.sensitivity is not None:
            for part in ("areas", "pairs", "conurbations"):
                paths[f"sensitivity_{part}"] = folder / f"sensitivity_{part}.csv"
                table = getattr(self.sensitivity, part)
                table.to_csv(paths[f"sensitivity_{part}"], index=part == "areas")
        conurbations, conurbation_mapping = self.conurbations, {}
        merged_metrics = self.merged.metrics if self.merged is not None else None
        if merged_metrics is not None and len(merged_metrics):
            fields, conurbation_mapping = flatten(merged_metrics)
            conurbations = conurbations.join(fields)
            conurbations = conurbations[
                [c for c in conurbations.columns if c != "geometry"] + ["geometry"]
            ]
        paths["conurbations"], conurbations_renamed = write_layer(
            conurbations, folder, "conurbations", format
        )
        self.summary.to_csv(paths["summary"])
        paths["provenance"].write_text(json.dumps(self._record(), indent=2) + "\n")
        mapping: dict[str, Any] = {"areas": area_mapping, "conurbations": conurbation_mapping}
        if areas_renamed or conurbations_renamed:
            mapping[RENAMED] = {"areas": areas_renamed, "conurbations": conurbations_renamed}
        write_mapping(paths["fields"], mapping)
        return paths

    def _metrics(self) -> pd.DataFrame:
        if self.metrics is None:
            return pd.DataFrame(columns=["area", "measure", "group", "metric", "value"])
        return self.metrics

    def _write_maps(self, out: Path, **options: Any) -> dict[str, Path]:
        return write_maps(
            self.areas,
            self.conurbations,
            metrics=self.metrics,
            lisa=self.lisa,
            title=self.config.title,
            path=out,
            notes=tuple(self.provenance.notes),
            **options,
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
    detail_limit: int | None = None,
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
    detail_limit : int, optional
        Above this many areas every map is drawn for its size (classes filled
        without outlines; ``map.html`` embeds the cluster areas only, merged
        by type); by default :data:`geoclusters.maps.DETAIL_LIMIT` (20,000).

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

    from .maps import DETAIL_LIMIT, interactive_map, lisa_maps, typology_map

    limit = {"detail_limit": DETAIL_LIMIT if detail_limit is None else detail_limit}
    paths: dict[str, Path] = {}

    def save(figure, key: str, stem: str) -> None:
        for i, fmt in enumerate(formats):
            target = out / f"{stem}.{fmt}"
            figure.savefig(target, dpi=dpi, bbox_inches="tight", facecolor="white", format=fmt)
            paths[key if i == 0 else f"{key}_{fmt}"] = target
        figure.clear()

    save(typology_map(areas, conurbations, title=title, inset=inset, **limit), "map", "map")
    if lisa is not None and len(lisa):
        save(lisa_maps(areas, lisa, **limit), "lisa_map", "lisa")
    if focus is not None:
        heading = f"{title or 'Industry cluster typology'} (detail)"
        save(
            typology_map(
                areas, conurbations, title=heading, extent=focus, label_areas=True, **limit
            ),
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
        **limit,
    )
    return paths


Progress = Callable[[str], None]


def run(
    areas: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    config: Config | Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    *,
    ledger: Ledger | None = None,
    flows: pd.DataFrame | str | Path | None = None,
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
    ledger : Ledger, optional
        The accounting of the inputs so far (the readers' and crosswalk's
        ``ledger=``); the run adds its own accounts (areas and count rows
        analysed, and set aside and why) and returns it as
        ``RunResult.accounting``.
    flows : pandas.DataFrame or path, optional
        Commuting between the areas (``origin, destination, count``), for the
        strength of the links between clusters; overrides ``config.flows``.
    **options
        Override single parameters of ``config``.

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError
        For an option of the wrong type or out of range, or an unknown one,
        before any work.

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
    ledger = Ledger() if ledger is None else ledger
    with _dask_client(config) as client:
        return _run(areas, counts, config, progress, client, ledger, flows)


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


def stages(config: Config) -> int:
    """How many progress messages :func:`run` sends with ``config``."""
    return 6 + bool(config.lisa) + bool(config.sensitivity_runs)


def _run(areas, counts, config: Config, progress, client, ledger: Ledger, flows=None) -> RunResult:
    say = progress or (lambda message: None)
    notes = list(config.notes)
    if areas.attrs.get("synthetic"):
        notes.insert(0, "SYNTHETIC DEMO DATA: the areas and counts are generated, not real.")

    say("checking counts against the areas")
    # the one validation of the run: every stage below gets valid counts
    checked = Ledger()
    counts = validate_counts(counts, ledger=checked)
    all_areas = areas
    without = areas.index.difference(pd.Index(counts["area"].unique()))
    set_aside: tuple[SetAside, ...] = ()
    if len(without) and config.missing_counts == "no data":
        areas = areas.drop(index=without)
        notes.append(
            f"{len(without)} areas have no counts and are shown as 'no data': " + ", ".join(without)
        )
        set_aside = (SetAside("without counts, shown as 'no data'", tuple(without)),)
    check_area_codes(counts, areas)
    input_counts = counts
    counts, groups = _classify(counts, config.groups)
    periods = _periods(counts, config.periods)
    ledger.add(
        InputAccount("areas analysed", "run", len(all_areas), len(areas), "areas", set_aside)
    )
    ledger.add(_counts_account(input_counts, groups, periods, checked.accounts[0].repairs))

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
    if flows is None and config.flows is not None:
        flows = _read_flows(config.flows)
    elif isinstance(flows, str | Path):
        flows = _read_flows(flows)
    options = _conurbation_options(config, flows)
    merged = merge_conurbations(areas, table, graph, detection, **options, _validated=True)
    conurbations = merged.table
    sensitivity = None
    if config.sensitivity_runs:
        from .sensitivity import sensitivity as robustness

        say(f"re-running {config.sensitivity_runs} times for robustness")
        detector = {
            "nesta2016": {"quantile": config.quantile, "top_n": config.top_n},
            "thresholds": {
                "lq_min": config.lq_min,
                "count_min": config.count_min,
                "lq_change_min": config.lq_change_min,
            },
            "hotspots": {
                "statistic": config.statistic,
                "variable": config.variable,
                "correction": config.correction,
                "alpha": config.alpha,
                "permutations": config.permutations,
                "seed": config.seed,
            },
        }[config.method]
        sensitivity = robustness(
            areas,
            counts,
            graph,
            runs=config.sensitivity_runs,
            seed=config.seed or 0,
            method=config.method,
            options=detector,
            groups=groups,
            periods=periods,
            flows=flows,
            conurbations=options,
            progress=progress is not None,
            _validated=True,
        )
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
        accounting=ledger,
        links=merged.links,
        sensitivity=sensitivity,
    )


def _conurbation_options(config: Config, flows) -> dict[str, Any]:
    """The options of merge_conurbations a config sets."""
    shared, flow, similarity = config.link_weights
    return {
        "flows": flows,
        "method": config.conurbation_method,
        "weights": {"shared": shared, "flow": flow, "similarity": similarity},
        "min_strength": config.min_strength,
        "max_diameter": config.max_diameter,
        "max_members": config.max_members,
        "hubs": config.hubs or ("auto" if config.find_hubs else None),
        "seed": config.seed or 0,
        "match": config.match,
        "sectors": config.sectors,
        "hub_min_links": config.hub_min_links,
        "min_members": config.min_members,
    }


def _read_flows(path) -> pd.DataFrame:
    """A commuting CSV, ``origin, destination, count``, by the readers' rules (encoding,
    delimiter, empty files); the counts are checked where the flows are used."""
    return read_table(path, "commuting")[0]


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
    from .taxonomy import SUBSECTORS, classify_counts

    sectors = _sector_labels(counts)
    if sectors.empty:
        raise InputError("the counts have no sector rows, only totals")
    if _is_sic(counts):
        counts = classify_counts(counts, level="subsector")
        sectors = _sector_labels(counts)
    if groups == "auto":
        groups = "nesta2016" if sectors.isin(SUBSECTORS).all() else None
    return counts, groups


def _counts_account(counts: pd.DataFrame, groups, periods, repairs) -> InputAccount:
    """The count rows the analysis used, and those the chosen periods and groups left out."""
    from .taxonomy import NESTA_2016_GROUPS, SUBSECTORS, sic_to_subsector

    sectors = counts["sector"]
    coded = (sectors != TOTAL) & ~sectors.isin(SUBSECTORS)
    if coded.any() and groups is not None and _is_sic(counts):
        # SIC-4 rows count for the sub-sector they were summed into
        codes = sectors[coded].unique()
        subsector = dict(zip(codes, sic_to_subsector(pd.Series(codes)), strict=True))
        sectors = sectors.where(~coded, sectors.map(subsector))
    if isinstance(periods, Mapping):
        chosen = {str(p) for span in periods.values() for p in span}
    else:
        chosen = {str(p) for p in periods}
    off_period = ~counts["period"].isin(chosen)
    spec = NESTA_2016_GROUPS if groups == "nesta2016" else groups
    no_measure = pd.Series(False, index=counts.index)
    no_group = pd.Series(False, index=counts.index)
    if spec is not None:
        nested = all(isinstance(v, Mapping) for v in spec.values())
        by_measure = {m: (spec.get(m) if nested else spec) for m in counts["measure"].unique()}
        no_measure = counts["measure"].map({m: by_measure[m] is None for m in by_measure})
        allowed = pd.MultiIndex.from_tuples(
            [(m, TOTAL) for m in by_measure]
            + [
                (m, str(sector))
                for m, g in by_measure.items()
                if g is not None
                for members in g.values()
                for sector in members
            ]
        )
        keys = pd.MultiIndex.from_arrays([counts["measure"], sectors])
        no_group = pd.Series(~keys.isin(allowed), index=counts.index)
    reasons = (
        ("period not among the two compared", "period", off_period),
        ("measure without sector groups", "measure", ~off_period & no_measure),
        ("sector in no sector group", "sector", ~off_period & ~no_measure & no_group),
    )
    set_aside = tuple(
        SetAside(f"{reason}: {_some(counts.loc[mask, column])}", tuple(counts.index[mask].tolist()))
        for reason, column, mask in reasons
        if mask.any()
    )
    used = len(counts) - sum(s.count for s in set_aside)
    return InputAccount(
        "counts analysed", "run", len(counts), used, set_aside=set_aside, repairs=repairs
    )


def _some(values: pd.Series, shown: int = 5) -> str:
    distinct = sorted(values.astype(str).unique())
    more = f" and {len(distinct) - shown} more" if len(distinct) > shown else ""
    return ", ".join(distinct[:shown]) + more


def _sector_labels(counts: pd.DataFrame) -> pd.Series:
    """The distinct sector labels, totals left out."""
    labels = pd.Series(counts["sector"].unique())
    return labels[labels != TOTAL].reset_index(drop=True)


def _is_sic(counts: pd.DataFrame) -> bool:
    """Whether the sectors are SIC-4 codes (then recoded to DCMS sub-sectors)."""
    from .taxonomy import normalise_sic

    sectors = _sector_labels(counts)
    return bool(len(sectors)) and bool(normalise_sic(sectors).str.fullmatch(r"\d{4}").all())


def _periods(counts: pd.DataFrame, periods):
    if periods is not None:
        return periods
    present = set(counts["period"].unique())
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
    common = {"groups": None, "periods": sorted(table["period"].unique()), "_validated": True}
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
        alternative=config.alternative,
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
        and not reach(
            used,
            tests,
            correction=config.correction,
            alpha=config.alpha,
            alternative=config.alternative,
        ).comfortable
    ):
        used = max(
            used,
            permutations_needed(
                tests,
                correction=config.correction,
                alpha=config.alpha,
                alternative=config.alternative,
                maximum=MAX_PERMUTATIONS,
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
            alternative=config.alternative,
            missing="drop",
            **options,
        )
        # a handful of distinct labels over up to millions of areas
        codes, found = pd.factorize(np.asarray(result.cluster, dtype=object), use_na_sentinel=False)
        label = np.array([normalise_label(v) for v in found], dtype=object)[codes]
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
    if config.conurbation_method == "components":
        rule = "each conurbation is a connected set of such links"
    else:
        weights = ", ".join(map(str, config.link_weights))
        rule = (
            "each link is scored by the groups the two share, the commuting between them and "
            f"how alike their sector profiles are (weights {weights}); links of strength "
            f"{config.min_strength} or more are kept, and "
            + (
                "conurbations are communities of the kept links (Louvain, seeded)"
                if config.conurbation_method == "louvain"
                else f"clusters merge, strongest ties first, only while every member stays within "
                f"{config.max_diameter} kept links of every other (at most {config.max_members} "
                "members), so that one weak link cannot chain two blocs"
            )
        )
    if config.hubs:
        hubs = f"; hubs kept out of merges: {', '.join(config.hubs)}"
    elif config.find_hubs and config.conurbation_method != "components":
        hubs = "; hubs (areas that alone tie separate blocs) are found from the links and kept out"
    else:
        hubs = ""
    merging = (
        "Neighbouring clusters that share a specialised sector group (in concentration or in "
        f"growth) are merged into conurbations: {rule}{hubs}."
    )
    lq = (
        "The location quotient of a sector in an area is its share of the area's businesses (or "
        "jobs) divided by the sector's share nationally; above 1 means more specialised than the "
        "country."
    )
    return " ".join([lq, detection, graph, merging])


def progress_printer(total: int, stream=None) -> Progress:
    """A progress reporter printing a bar per stage to ``stream`` (standard error).

    Should more stages come than ``total`` said, the bar grows rather than
    overflowing.
    """
    state = {"step": 0, "total": total, "start": time.perf_counter()}

    def report(message: str) -> None:
        state["step"] += 1
        state["total"] = max(state["total"], state["step"])
        done, all_ = state["step"], state["total"]
        bar = "#" * done + "-" * (all_ - done)
        elapsed = time.perf_counter() - state["start"]
        print(
            f"[{bar}] {done}/{all_} {message} ({elapsed:.1f}s)",
            file=stream or sys.stderr,
            flush=True,
        )

    return report


def load_provenance(path: str | Path) -> dict[str, Any]:
    """Read a provenance JSON written by :meth:`RunResult.write`.

    Raises
    ------
    ReadError
        For a missing, truncated or damaged file.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(
            f"provenance file not found: {path}",
            fix="point at the provenance.json of a folder written by geoclusters",
        )
    return read_json(path)
