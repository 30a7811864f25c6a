"""The ``geoclusters`` command line: demo, run, map and report.

Errors in the input are printed as what is wrong, which rows, and what to do,
with exit status 2; anything else unexpected keeps its traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import __version__
from .errors import GeoclustersError

EXIT_INPUT = 2
_STAGES = 7


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``geoclusters`` command."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        return arguments.handler(arguments)
    except GeoclustersError as error:
        print(f"geoclusters {arguments.command}: error: {error}", file=sys.stderr)
        return EXIT_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geoclusters",
        description="Find industry clusters and conurbations in geography.",
    )
    parser.add_argument("--version", action="version", version=f"geoclusters {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the whole job on the built-in SYNTHETIC demo region",
        description="Generate the synthetic demo region (clearly labelled as such), find "
        "its clusters and conurbations, and write every output.",
    )
    demo.add_argument("--out", required=True, type=Path, help="output directory")
    demo.add_argument("--seed", type=int, default=0, help="demo region seed (default 0)")
    _output_options(demo)
    _dask_options(demo)
    demo.set_defaults(handler=_demo)

    run = commands.add_parser(
        "run",
        help="find clusters in your boundaries and counts",
        description="Read boundaries and counts (optionally moved onto the boundaries with a "
        "crosswalk), find clusters and conurbations, and write areas.gpkg, clusters.csv, "
        "conurbations.gpkg, summary.csv, provenance.json, map.png, map.html and report.html.",
    )
    run.add_argument("--boundaries", required=True, type=Path, help="polygons (gpkg, geojson, shp)")
    run.add_argument("--code", help="area code column (default: the one column ending in 'cd')")
    run.add_argument("--name", help="area name column (default: the one column ending in 'nm')")
    run.add_argument("--layer", help="layer of a multi-layer boundary file")
    run.add_argument("--assume-crs", help="CRS of boundaries that declare none, e.g. EPSG:4326")
    run.add_argument("--repair", action="store_true", help="repair invalid geometries")
    run.add_argument(
        "--counts",
        required=True,
        type=Path,
        help="counts CSV: tidy columns area, sector, period, measure, value (or a NOMIS download)",
    )
    run.add_argument("--counts-format", choices=["generic", "nomis"], default="generic")
    run.add_argument("--measure", help="measure of a counts file without a measure column")
    run.add_argument("--crosswalk", type=Path, help="lookup CSV moving counts onto the boundaries")
    run.add_argument("--crosswalk-source", default="source", help="lookup column of count codes")
    run.add_argument("--crosswalk-target", default="target", help="lookup column of area codes")
    run.add_argument("--crosswalk-weight", default="weight", help="lookup weight column ('' none)")
    run.add_argument("--config", type=Path, help="TOML file of parameters")
    run.add_argument("--out", required=True, type=Path, help="output directory")
    _output_options(run)
    _dask_options(run)
    run.set_defaults(handler=_run)

    draw = commands.add_parser(
        "map",
        help="redraw the maps from a run's outputs",
        description="Read areas.gpkg and conurbations.gpkg from a run's output directory and "
        "write map.png (typology), lisa.png and map.html again.",
    )
    draw.add_argument("--from", dest="source", required=True, type=Path, help="run output dir")
    draw.add_argument("--out", type=Path, help="directory for the maps (default: --from)")
    draw.add_argument("--title", help="map title")
    draw.set_defaults(handler=_map)

    report = commands.add_parser(
        "report",
        help="rewrite the HTML report from a run's outputs",
        description="Read a run's outputs and write report.html again (for example after "
        "editing the title).",
    )
    report.add_argument("--from", dest="source", required=True, type=Path, help="run output dir")
    report.add_argument("--out", type=Path, help="report path (default: FROM/report.html)")
    report.add_argument("--title", help="report title")
    report.set_defaults(handler=_report)
    _add_sensitivity(commands)
    return parser


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-maps", action="store_true", help="skip map.png and map.html")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _dask_options(parser: argparse.ArgumentParser) -> None:
    dask = parser.add_mutually_exclusive_group()
    dask.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the permutations on this Dask scheduler"
    )
    dask.add_argument(
        "--workers", type=int, metavar="N", help="start a local Dask cluster with N workers"
    )


def _dask_config(config, arguments):
    changes = {
        name: getattr(arguments, name)
        for name in ("scheduler", "workers")
        if getattr(arguments, name) is not None
    }
    return config.replace(**changes) if changes else config


def _demo(arguments) -> int:
    from .datasets import demo_region
    from .pipeline import Config, progress_printer, run

    progress = None if arguments.quiet else progress_printer(_STAGES + 1)
    if progress:
        progress("generating the SYNTHETIC demo region")
    region = demo_region(seed=arguments.seed)
    config = _dask_config(Config(title="geoclusters demo region"), arguments)
    result = run(region.areas, region.counts, config, progress=progress)
    return _finish(result, arguments)


def _run(arguments) -> int:
    from .areas import read_areas
    from .counts import read_counts
    from .pipeline import Config, progress_printer, run

    _require_files(
        boundaries=arguments.boundaries,
        counts=arguments.counts,
        crosswalk=arguments.crosswalk,
        config=arguments.config,
    )
    progress = None if arguments.quiet else progress_printer(_STAGES + 2)
    config = Config.from_toml(arguments.config) if arguments.config else Config()
    config = _dask_config(config, arguments)
    if progress:
        progress(f"reading {arguments.boundaries.name} and {arguments.counts.name}")
    code, name = _columns(arguments)
    areas = read_areas(
        arguments.boundaries,
        code=code,
        name=name,
        assume_crs=arguments.assume_crs,
        layer=arguments.layer,
        repair=arguments.repair,
    )
    counts = read_counts(
        arguments.counts,
        format=arguments.counts_format,
        measure=arguments.measure,
    )
    if arguments.crosswalk:
        from .crosswalks import crosswalk, read_lookup

        if progress:
            progress(f"moving counts onto the boundaries with {arguments.crosswalk.name}")
        counts = crosswalk(
            counts,
            read_lookup(arguments.crosswalk),
            arguments.crosswalk_source,
            arguments.crosswalk_target,
            weight=arguments.crosswalk_weight or None,
        )
        note = (
            f"Counts were moved onto the boundaries with the lookup {arguments.crosswalk.name}: "
            "an approximation where areas are split."
        )
        config = config.replace(notes=(*config.notes, note))
    result = run(areas, counts, config, progress=progress)
    return _finish(result, arguments)


def _require_files(**paths: Path | None) -> None:
    from .errors import InputError

    missing = [f"--{option} {path}" for option, path in paths.items() if path and not path.exists()]
    if missing:
        raise InputError("input files not found", rows=missing, fix="check the paths")


def _columns(arguments) -> tuple[str, str | None]:
    if arguments.code:
        return arguments.code, arguments.name
    import pyogrio

    fields = list(pyogrio.read_info(arguments.boundaries, layer=arguments.layer)["fields"])
    codes = [f for f in fields if re.search(r"cd$", f, re.IGNORECASE)]
    if len(codes) != 1:
        from .errors import InputError

        raise InputError(
            f"cannot tell which column holds the area codes (fields: {fields})",
            fix="pass --code COLUMN (and --name COLUMN)",
        )
    names = [f for f in fields if re.search(r"nm$", f, re.IGNORECASE)]
    return codes[0], arguments.name or (names[0] if len(names) == 1 else None)


def _finish(result, arguments) -> int:
    paths = result.write(arguments.out, maps=not arguments.no_maps, report=not arguments.no_report)
    if not arguments.quiet:
        types = result.summary["total"]
        if result.synthetic:
            print("SYNTHETIC DEMO DATA — not real places.")
        print(
            f"{len(result.areas)} areas: {types['all clusters']} clusters "
            f"({types['high concentration']} high concentration, {types['high growth']} high "
            f"growth, {types['both']} both), {len(result.conurbations)} conurbations."
        )
        for name, path in paths.items():
            print(f"  {name:<16} {path}")
    return 0


def _load_outputs(directory: Path):
    """A run's outputs read back: areas, clusters, conurbations, provenance, metrics, LISA."""
    import geopandas as gpd
    import pandas as pd

    from ._fields import FIELDS_FILE, read_mapping, unflatten
    from .conurbations import Conurbations
    from .errors import InputError
    from .pipeline import load_provenance

    needed = ["areas.gpkg", "clusters.csv", "conurbations.gpkg", "provenance.json", FIELDS_FILE]
    missing = [n for n in needed if not (directory / n).exists()]
    if missing:
        raise InputError(
            f"{directory} does not hold a run's outputs",
            rows=missing,
            fix="point --from at a directory written by 'geoclusters run' or 'geoclusters demo'",
        )
    mapping = read_mapping(directory / FIELDS_FILE)
    areas = gpd.read_file(directory / "areas.gpkg").set_index("area")
    areas, metrics, lisa = unflatten(areas, mapping.get("areas", {}))
    table = gpd.read_file(directory / "conurbations.gpkg")
    if "conurbation" in table:
        table = table.set_index("conurbation")
    table, merged_metrics, _ = unflatten(table, mapping.get("conurbations", {}))
    clusters = pd.read_csv(directory / "clusters.csv", dtype={"area": str})
    provenance = load_provenance(directory / "provenance.json")
    synthetic = any("SYNTHETIC" in note for note in provenance.get("notes", []))
    areas.attrs["synthetic"] = table.attrs["synthetic"] = synthetic
    for frame in (areas, table):
        for column in frame.columns:
            if frame[column].dtype == object and column != frame.geometry.name:
                frame[column] = frame[column].fillna("")
    conurbations = Conurbations(
        table=table,
        metrics=merged_metrics,
        links=pd.DataFrame(columns=["area", "neighbour", "shared"]),
    )
    return areas, clusters, conurbations, provenance, metrics, lisa


def _map(arguments) -> int:
    from .pipeline import write_maps

    areas, _, conurbations, _, metrics, lisa = _load_outputs(arguments.source)
    out = arguments.out or arguments.source
    paths = write_maps(
        areas, conurbations.table, metrics=metrics, lisa=lisa, title=arguments.title, path=out
    )
    for key in ("map", "lisa_map", "interactive_map"):
        if key in paths:
            print(paths[key])
    return 0


def _report(arguments) -> int:
    from .report import write_report

    areas, clusters, conurbations, provenance, metrics, lisa = _load_outputs(arguments.source)
    path = write_report(
        areas,
        clusters,
        conurbations,
        provenance,
        metrics=metrics,
        lisa=lisa,
        title=arguments.title,
        path=arguments.out or arguments.source / "report.html",
    )
    print(path)
    return 0


# --------------------------------------------------------------------------- sensitivity


def _add_sensitivity(commands) -> None:
    sensitivity = commands.add_parser(
        "sensitivity",
        help="how robust each cluster and conurbation is (re-runs over perturbed counts)",
        description="Run the whole job, then re-run detection and merging RUNS times over a "
        "parameter grid and counts perturbed within disclosure control (seeded), and write "
        "the run's outputs plus sensitivity_areas.csv, sensitivity_pairs.csv and "
        "sensitivity_conurbations.csv.",
    )
    sensitivity.add_argument("--boundaries", required=True, type=Path, help="polygons")
    sensitivity.add_argument("--code", help="area code column (default: the one ending in 'cd')")
    sensitivity.add_argument("--name", help="area name column (default: the one ending in 'nm')")
    sensitivity.add_argument("--layer", help="layer of a multi-layer boundary file")
    sensitivity.add_argument("--counts", required=True, type=Path, help="tidy counts CSV")
    sensitivity.add_argument("--flows", type=Path, help="commuting CSV: origin, destination, count")
    sensitivity.add_argument("--config", type=Path, help="TOML file of parameters")
    sensitivity.add_argument("--runs", type=int, default=20, help="perturbed runs (default 20)")
    sensitivity.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    sensitivity.add_argument("--out", required=True, type=Path, help="output directory")
    _output_options(sensitivity)
    sensitivity.set_defaults(handler=_sensitivity, repair=False, assume_crs=None)


def _sensitivity(arguments) -> int:
    from .areas import read_areas
    from .counts import read_counts
    from .pipeline import Config, progress_printer, run

    _require_files(
        boundaries=arguments.boundaries,
        counts=arguments.counts,
        flows=arguments.flows,
        config=arguments.config,
    )
    if arguments.runs < 1:
        from .errors import InputError

        raise InputError(f"--runs {arguments.runs}: the number of runs is at least 1")
    config = Config.from_toml(arguments.config) if arguments.config else Config()
    config = config.replace(sensitivity_runs=arguments.runs, seed=arguments.seed)
    if arguments.flows:
        config = config.replace(flows=str(arguments.flows))
    code, name = _columns(arguments)
    areas = read_areas(arguments.boundaries, code=code, name=name, layer=arguments.layer)
    progress = None if arguments.quiet else progress_printer(_STAGES + 1)
    result = run(areas, read_counts(arguments.counts), config, progress=progress)
    _finish(result, arguments)
    for part in ("areas", "pairs", "conurbations"):
        path = arguments.out / f"sensitivity_{part}.csv"
        getattr(result.sensitivity, part).to_csv(path, index=part == "areas")
        if not arguments.quiet:
            print(f"  sensitivity_{part:<5} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
