"""The ``geoclusters`` command line: demo, run, map and report.

Bad input — files, options, configuration, the output folder — is printed as
what is wrong, which rows, and what to do, with exit status 2 and no
traceback; a mistyped option gets the closest real one suggested. Warnings
are one line each. Anything else unexpected (a bug) keeps its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import re
import sys
import tomllib
import warnings
from pathlib import Path
from typing import Any

from . import __version__
from .errors import GeoclustersError

EXIT_INPUT = 2
# fields set on the command line through their own options, or only in TOML
_NOT_FLAGS = ("groups", "notes", "scheduler", "workers")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``geoclusters`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _parser()
    command = _command(argv, commands)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line
        try:
            if command is not None:
                _suggest(commands[command], argv[argv.index(command) + 1 :])
            arguments = parser.parse_args(argv)
            if arguments.command is None:
                parser.print_help()
                return EXIT_INPUT
            return arguments.handler(arguments)
        except GeoclustersError as error:
            print(f"geoclusters {command}: error: {error}", file=sys.stderr)
            return EXIT_INPUT
        except OSError as error:
            # a file that vanished or cannot be opened: the user's to fix, not a bug
            print(f"geoclusters {command}: error: {error}", file=sys.stderr)
            return EXIT_INPUT
        except KeyboardInterrupt:
            print(f"geoclusters {command}: interrupted", file=sys.stderr)
            return 130


def _one_line(message, category, filename, lineno, file=None, line=None) -> None:
    """Show a warning as one line, without the Python source line it came from."""
    text = " ".join(str(message).split())
    kind = "" if category is UserWarning else f" ({category.__name__})"
    print(f"geoclusters: warning{kind}: {text}", file=file or sys.stderr, flush=True)


def _command(argv: list[str], commands: dict[str, argparse.ArgumentParser]) -> str | None:
    for token in argv:
        if token in commands:
            return token
        if not token.startswith("-"):
            return None
    return None


def _suggest(parser: argparse.ArgumentParser, tokens: list[str]) -> None:
    """Stop with the closest real option when an option is not one of ``parser``'s."""
    known = [s for action in parser._actions for s in action.option_strings]
    for token in tokens:
        if token == "--":
            return
        if re.fullmatch(r"-[A-Za-z][\w-]+(=.*)?", token):
            # "-out" for "--out": argparse would report a missing --out instead
            name = token.split("=", 1)[0]
            close = difflib.get_close_matches("-" + name, known, n=1, cutoff=0.8)
            if close:
                parser.error(f"unknown option {name} (did you mean {close[0]}?)")
            continue
        if not token.startswith("--"):
            continue
        name = token.split("=", 1)[0]
        if name in known or sum(o.startswith(name) for o in known) == 1:
            continue
        if sum(o.startswith(name) for o in known) > 1:
            continue  # an ambiguous abbreviation: argparse lists the candidates
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        parser.error(
            f"unknown option {name}"
            + (f" (did you mean {close[0]}?)" if close else f"; see {parser.prog} --help")
        )


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
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
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="demo region seed (default 0); the permutation seed is --set seed=N",
    )
    _output_options(demo)
    _analysis_options(demo, skip=("seed",))
    _dask_options(demo)
    demo.set_defaults(handler=_demo)

    run = commands.add_parser(
        "run",
        help="find clusters in your boundaries and counts",
        description="Read boundaries and counts (optionally moved onto the boundaries with a "
        "crosswalk), find clusters and conurbations, and write areas.gpkg, clusters.csv, "
        "conurbations.gpkg, summary.csv, provenance.json, map.png, map.html and report.html.",
    )
    inputs = run.add_argument_group("inputs")
    inputs.add_argument(
        "--boundaries", required=True, type=Path, help="polygons (gpkg, geojson, shp)"
    )
    inputs.add_argument("--code", help="area code column (default: the one column ending in 'cd')")
    inputs.add_argument("--name", help="area name column (default: the one column ending in 'nm')")
    inputs.add_argument("--layer", help="layer of a multi-layer boundary file")
    inputs.add_argument("--assume-crs", help="CRS of boundaries that declare none, e.g. EPSG:4326")
    inputs.add_argument("--repair", action="store_true", help="repair invalid geometries")
    inputs.add_argument(
        "--counts",
        required=True,
        type=Path,
        help="counts CSV: tidy columns area, sector, period, measure, value (or a NOMIS download)",
    )
    inputs.add_argument("--counts-format", choices=["generic", "nomis"], default="generic")
    inputs.add_argument("--measure", help="measure of a counts file without a measure column")
    inputs.add_argument("--crosswalk", type=Path, help="lookup CSV moving counts onto the areas")
    inputs.add_argument("--crosswalk-source", default="source", help="lookup column of count codes")
    inputs.add_argument("--crosswalk-target", default="target", help="lookup column of area codes")
    inputs.add_argument(
        "--crosswalk-weight", default="weight", help="lookup weight column ('' none)"
    )
    _output_options(run)
    _analysis_options(run)
    _dask_options(run)
    run.set_defaults(handler=_run)

    draw = commands.add_parser(
        "map",
        help="redraw the maps from a run's outputs",
        description="Read a run's output folder and write map.png (typology), lisa.png and "
        "map.html again.",
    )
    draw.add_argument("--from", dest="source", required=True, type=Path, help="run output dir")
    draw.add_argument("--out", type=Path, help="directory for the maps (default: --from)")
    draw.add_argument("--title", help="map title")
    _map_options(draw)
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
    return parser, {"demo": demo, "run": run, "map": draw, "report": report}


def _output_options(parser: argparse.ArgumentParser) -> None:
    from ._outputs import FORMATS

    group = parser.add_argument_group("outputs")
    group.add_argument("--out", required=True, type=Path, help="output folder (new or empty)")
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the folder of a previous run whole (never a folder of other files)",
    )
    group.add_argument(
        "--format",
        choices=list(FORMATS),
        default="gpkg",
        help="format of areas and conurbations: GeoPackage (default), GeoParquet (needs "
        "pyarrow), FlatGeobuf, shapefile",
    )
    group.add_argument("--no-maps", action="store_true", help="skip map.png and map.html")
    group.add_argument("--no-report", action="store_true", help="skip report.html")
    group.add_argument("--quiet", action="store_true", help="no progress or summary output")
    _map_options(group)


def _map_options(parser) -> None:
    parser.add_argument(
        "--map-format",
        nargs="+",
        choices=("png", "svg", "pdf"),
        metavar="FORMAT",
        help="static map formats: png (default), svg, pdf (several allowed)",
    )
    parser.add_argument("--dpi", type=int, help="resolution of raster maps (default 150)")
    parser.add_argument(
        "--focus",
        nargs="+",
        metavar="CODE",
        help="also draw a detail map of these areas (map_focus.png, in the report too); "
        "the interactive map opens on them",
    )
    parser.add_argument(
        "--inset", nargs="+", metavar="CODE", help="draw these dense areas enlarged in an inset"
    )
    parser.add_argument(
        "--detail-limit",
        type=int,
        metavar="N",
        help="above N areas, maps are drawn for their size: classes filled without "
        "outlines, map.html with the cluster areas only (default 20000)",
    )


def _analysis_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """An option for every Config field (``--top-n``, ``--hubs``, ...) and ``--set``."""
    from ._config import choices as allowed
    from ._config import hints, is_bool, is_sequence
    from .pipeline import Config

    group = parser.add_argument_group(
        "analysis parameters",
        "Each overrides the same key of --config; see 'Configuration' in the docs. "
        "--set FIELD=VALUE sets any field, in TOML syntax for lists and tables.",
    )
    group.add_argument("--config", type=Path, help="TOML file of parameters")
    group.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help='set any configuration field, e.g. --set seed=1 or --set \'periods=["2010","2015"]\'',
    )
    resolved = hints(Config)
    for field in dataclasses.fields(Config):
        if field.name in _NOT_FLAGS or field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        hint = resolved[field.name]
        text = field.metadata.get("help") or f"Config.{field.name}"
        default = field.default if field.default is not dataclasses.MISSING else None
        text += f" (default {_shown(default)})"
        options: dict[str, Any] = {"dest": f"field_{field.name}", "default": None, "help": text}
        if is_bool(hint):
            options["action"] = argparse.BooleanOptionalAction
        elif field.name == "periods":
            options.update(nargs=2, metavar=("FIRST", "SECOND"))
        elif is_sequence(hint):
            options.update(nargs="+", metavar="CODE")
        else:
            choices = allowed(field, hint)
            options["metavar"] = (
                "{" + ",".join(str(c).lower() for c in choices) + "}"
                if choices
                else field.name.upper()
            )
        group.add_argument(flag, **options)


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if value == ():
        return "none"
    return str(value)


def _dask_options(parser: argparse.ArgumentParser) -> None:
    dask = parser.add_mutually_exclusive_group()
    dask.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the permutations on this Dask scheduler"
    )
    dask.add_argument(
        "--workers", type=int, metavar="N", help="start a local Dask cluster with N workers"
    )


def _config(arguments, **base):
    """The run's Config: defaults, then --config, then --set, then the named options."""
    from ._config import hints, unknown_keys
    from .errors import ConfigError
    from .pipeline import Config

    config = Config.from_toml(arguments.config) if arguments.config else Config(**base)
    if arguments.config and base:
        config = config.replace(**{k: v for k, v in base.items() if getattr(config, k) is None})
    resolved = hints(Config)
    known = [f.name for f in dataclasses.fields(Config)]
    changes: dict[str, Any] = {}
    unknown = []
    for item in arguments.settings:
        name, equals, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name:
            raise ConfigError(
                f"--set {item!r} is not FIELD=VALUE", fix="write --set top_n=20, for example"
            )
        if name not in known:
            unknown.append(name)
            continue
        changes[name] = _value(text.strip(), resolved[name])
    if unknown:
        raise unknown_keys(unknown, known)
    for name in known:
        value = getattr(arguments, f"field_{name}", None)
        if value is None:
            continue
        if isinstance(value, list):
            # several codes or two periods as text; other lists item by item
            item = _item_hint(resolved[name])
            changes[name] = value if item is None else [_value(v, item) for v in value]
        elif isinstance(value, bool):
            changes[name] = value
        else:
            changes[name] = _value(value, resolved[name])
    for name in ("scheduler", "workers"):
        if getattr(arguments, name, None) is not None:
            changes[name] = getattr(arguments, name)
    return Config.from_mapping(config.to_dict() | changes) if changes else config


def _item_hint(hint):
    """The item type of a ``tuple[X, ...]`` field other than text, else None."""
    import typing

    from ._config import is_sequence

    if not is_sequence(hint):
        return None
    base = [a for a in typing.get_args(hint) if a is not type(None)]
    if len(base) == 1 and typing.get_origin(base[0]) is tuple:
        hint = base[0]
    item = typing.get_args(hint)[0]
    return None if item is str else item


def _value(text: str, hint) -> Any:
    """A command-line value by TOML's rules, except text fields, which take text as is."""
    from ._config import is_sequence

    base = [a for a in getattr(hint, "__args__", (hint,)) if a is not type(None)]
    if base == [str]:
        return text
    if is_sequence(hint) and not text.startswith("["):
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _prepare_outputs(arguments) -> dict[str, Any]:
    """Check the output folder and format before any work; the write options."""
    from ._outputs import check_format, check_target, missing_modules

    check_format(arguments.format)
    check_target(arguments.out, overwrite=arguments.overwrite)
    options = _map_choices(arguments)
    if "formats" in options:
        options["map_formats"] = options.pop("formats")
    drawing = not (arguments.no_maps and arguments.no_report) and not missing_modules()
    return {
        "maps": not arguments.no_maps,
        "report": not arguments.no_report,
        "format": arguments.format,
        "overwrite": arguments.overwrite,
        "writes": 1 + (drawing and not arguments.no_maps) + (drawing and not arguments.no_report),
        **options,
    }


def _map_choices(arguments) -> dict[str, Any]:
    """write_maps' formats, dpi, focus, inset and detail_limit, checked before any work."""
    from ._outputs import map_options
    from .pipeline import write_maps

    options = map_options(
        write_maps, arguments.map_format, arguments.dpi, getattr(arguments, "detail_limit", None)
    )
    for name in ("focus", "inset"):
        if getattr(arguments, name, None):
            options[name] = tuple(getattr(arguments, name))
    return options


def _demo(arguments) -> int:
    from .datasets import demo_region
    from .pipeline import progress_printer, run, stages

    config = _config(arguments, title="geoclusters demo region")
    outputs = _prepare_outputs(arguments)
    writes = outputs.pop("writes")
    progress = None if arguments.quiet else progress_printer(1 + stages(config) + writes)
    if progress:
        progress("generating the SYNTHETIC demo region")
    region = demo_region(seed=arguments.seed)
    result = run(region.areas, region.counts, config, progress=progress)
    return _finish(result, arguments, outputs, progress)


def _run(arguments) -> int:
    from ._accounting import Ledger
    from .areas import read_areas
    from .counts import read_counts
    from .pipeline import progress_printer, run, stages

    _require_files(
        boundaries=arguments.boundaries,
        counts=arguments.counts,
        crosswalk=arguments.crosswalk,
        config=arguments.config,
    )
    config = _config(arguments)
    outputs = _prepare_outputs(arguments)
    writes = outputs.pop("writes")
    total = 1 + bool(arguments.crosswalk) + stages(config) + writes
    progress = None if arguments.quiet else progress_printer(total)
    if progress:
        progress(f"reading {arguments.boundaries.name} and {arguments.counts.name}")
    ledger = Ledger()
    code, name = _columns(arguments)
    areas = read_areas(
        arguments.boundaries,
        code=code,
        name=name,
        assume_crs=arguments.assume_crs,
        layer=arguments.layer,
        repair=arguments.repair,
        ledger=ledger,
    )
    counts = read_counts(
        arguments.counts,
        format=arguments.counts_format,
        measure=arguments.measure,
        ledger=ledger,
    )
    if arguments.crosswalk:
        from .crosswalks import crosswalk, read_lookup

        if progress:
            progress(f"moving counts onto the boundaries with {arguments.crosswalk.name}")
        counts = crosswalk(
            counts,
            read_lookup(arguments.crosswalk, ledger=ledger),
            source=arguments.crosswalk_source,
            target=arguments.crosswalk_target,
            weight=arguments.crosswalk_weight or None,
            ledger=ledger,
        )
        note = (
            f"Counts were moved onto the boundaries with the lookup {arguments.crosswalk.name}: "
            "an approximation where areas are split."
        )
        config = config.replace(notes=(*config.notes, note))
    result = run(areas, counts, config, progress=progress, ledger=ledger)
    return _finish(result, arguments, outputs, progress)


def _require_files(**paths: Path | None) -> None:
    from .errors import InputError

    missing = [f"--{option} {path}" for option, path in paths.items() if path and not path.exists()]
    if missing:
        raise InputError("input files not found", rows=missing, fix="check the paths")


def _columns(arguments) -> tuple[str, str | None]:
    if arguments.code:
        return arguments.code, arguments.name
    from .areas import layer_fields

    fields = layer_fields(arguments.boundaries, arguments.layer)
    codes = [f for f in fields if re.search(r"cd$", f, re.IGNORECASE)]
    if len(codes) != 1:
        from .errors import InputError

        raise InputError(
            f"cannot tell which column holds the area codes (fields: {fields})",
            fix="pass --code COLUMN (and --name COLUMN)",
        )
    names = [f for f in fields if re.search(r"nm$", f, re.IGNORECASE)]
    return codes[0], arguments.name or (names[0] if len(names) == 1 else None)


def _finish(result, arguments, outputs: dict[str, Any], progress) -> int:
    paths = result.write(arguments.out, progress=progress, **outputs)
    if not arguments.quiet:
        types = result.summary["total"]
        if result.synthetic:
            print("SYNTHETIC DEMO DATA — not real places.")
        print(
            f"{len(result.areas)} areas: {types['all clusters']} clusters "
            f"({types['high concentration']} high concentration, {types['high growth']} high "
            f"growth, {types['both']} both), {len(result.conurbations)} conurbations."
        )
        print("Inputs (in, out, set aside and why):")
        for line in result.accounting.lines():
            print(f"  {line}")
        print("Written:")
        for name, path in paths.items():
            print(f"  {name:<16} {path}")
    return 0


def _load_outputs(directory: Path):
    """A run's outputs read back: areas, clusters, conurbations, provenance, metrics, LISA."""
    from ._fields import FIELDS_FILE, unflatten
    from ._outputs import RENAMED, find_layer, read_csv, read_json, read_layer
    from .conurbations import Conurbations
    from .errors import InputError
    from .pipeline import load_provenance

    if not directory.is_dir():
        raise InputError(
            f"{directory} is not a folder",
            fix="point --from at a folder written by 'geoclusters run' or 'geoclusters demo'",
        )
    layers = {name: find_layer(directory, name) for name in ("areas", "conurbations")}
    needed = ["clusters.csv", "provenance.json", FIELDS_FILE]
    missing = [f"{name}.gpkg" for name, path in layers.items() if path is None]
    missing += [n for n in needed if not (directory / n).exists()]
    if missing:
        raise InputError(
            f"{directory} does not hold a run's outputs",
            rows=missing,
            fix="point --from at a directory written by 'geoclusters run' or 'geoclusters demo'",
        )
    mapping = read_json(directory / FIELDS_FILE)
    renamed = mapping.get(RENAMED, {})
    frames = {}
    for name, index in (("areas", "area"), ("conurbations", "conurbation")):
        frame = read_layer(layers[name]).rename(columns=renamed.get(name, {}))
        if index in frame.columns:
            frame = frame.set_index(index)
        elif name == "areas":
            raise InputError(
                f"{layers[name]} has no 'area' field",
                fix="point --from at a folder written by geoclusters",
            )
        frames[name] = frame
    areas, metrics, lisa = unflatten(frames["areas"], mapping.get("areas", {}))
    table, merged_metrics, _ = unflatten(frames["conurbations"], mapping.get("conurbations", {}))
    clusters = read_csv(directory / "clusters.csv", dtype={"area": str})
    provenance = load_provenance(directory / "provenance.json")
    synthetic = any("SYNTHETIC" in note for note in provenance.get("notes", []))
    areas.attrs["synthetic"] = table.attrs["synthetic"] = synthetic
    for frame in (areas, table):
        for column in frame.columns:
            if frame[column].dtype == object and column != frame.geometry.name:
                frame[column] = frame[column].fillna("")
    links_path = directory / "links.csv"
    if links_path.exists():
        links = read_csv(links_path, dtype={"from": str, "to": str})
    else:  # a run written before links were scored
        import pandas as pd

        links = pd.DataFrame(columns=["from", "to", "shared", "flow", "strength", "kept", "why"])
    conurbations = Conurbations(table=table, metrics=merged_metrics, links=links)
    return areas, clusters, conurbations, provenance, metrics, lisa


def _map(arguments) -> int:
    from ._outputs import require_maps
    from .pipeline import write_maps

    require_maps("geoclusters map")
    options = _map_choices(arguments)
    areas, _, conurbations, _, metrics, lisa = _load_outputs(arguments.source)
    out = arguments.out or arguments.source
    paths = write_maps(
        areas,
        conurbations.table,
        metrics=metrics,
        lisa=lisa,
        title=arguments.title,
        path=out,
        **options,
    )
    for path in paths.values():
        print(path)
    return 0


def _report(arguments) -> int:
    from ._outputs import require_maps
    from .report import write_report

    require_maps("geoclusters report")
    areas, clusters, conurbations, provenance, metrics, lisa = _load_outputs(arguments.source)
    path = write_report(
        areas,
        clusters,
        conurbations,
        provenance,
        metrics=metrics,
        lisa=lisa,
        links=conurbations.links,
        title=arguments.title,
        path=arguments.out or arguments.source / "report.html",
    )
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
