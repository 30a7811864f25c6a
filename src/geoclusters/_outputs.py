"""Output folders written whole or not at all, in the vector format asked for.

A run's files are written into a temporary folder beside the target and
moved into place at the end, so a run that fails or is killed never leaves a
folder that looks complete, and a folder never holds files of two runs. The
target is checked before any analysis: an existing file, an unwritable place
or a folder holding something else is refused up front.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._warn import warn_user
from .errors import MissingExtraError, OutputError, ReadError

FORMATS: dict[str, tuple[str | None, str]] = {
    "gpkg": ("GPKG", ".gpkg"),
    "parquet": (None, ".parquet"),
    "fgb": ("FlatGeobuf", ".fgb"),
    "shp": ("ESRI Shapefile", ".shp"),
}
"""Vector formats of the polygon outputs: name → (GDAL driver, file suffix)."""

# mapclassify (still in the extra, for geopandas' own plotting) is not checked: the
# maps never import it, and importing it to check costs seconds of numba compilation
MAPS_EXTRA = ("matplotlib", "folium", "matplotlib_scalebar")
MAPS_INSTALL = 'pip install "geoclusters[maps]"'
RUN_MARKER = "provenance.json"
RENAMED = "renamed"
"""Key of ``fields.json`` holding shortened field names: layer → {short: full}."""
_SHAPEFILE_FIELD = 10
_SHAPEFILE_TEXT = 254


def missing_modules(names=MAPS_EXTRA) -> list[str]:
    """The modules of ``names`` that cannot be imported."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def require_maps(what: str) -> None:
    """Raise :class:`MissingExtraError` when the ``maps`` extra is incomplete."""
    missing = missing_modules()
    if missing:
        raise MissingExtraError(
            f"{what} needs the maps extra ({', '.join(missing)} not installed): {MAPS_INSTALL}"
        )


MAP_FORMATS = ("png", "svg", "pdf")


def map_options(write_maps, formats=None, dpi=None, detail_limit=None) -> dict:
    """The keyword arguments for ``write_maps`` asked for, checked before any work."""
    import inspect

    accepted = inspect.signature(write_maps).parameters
    options = {}
    if formats is not None:
        formats = tuple(dict.fromkeys(formats))
        unknown = [f for f in formats if f not in MAP_FORMATS]
        if unknown or not formats:
            raise OutputError(
                f"map formats {unknown or '(none)'} are not among {list(MAP_FORMATS)}",
                fix="choose png, svg or pdf",
            )
        options["formats"] = formats
    if dpi is not None:
        if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 2400:
            raise OutputError(f"dpi={dpi!r} is not a resolution for a map", fix="use 72 to 600")
        options["dpi"] = dpi
    if detail_limit is not None:
        if isinstance(detail_limit, bool) or not isinstance(detail_limit, int) or detail_limit < 0:
            raise OutputError(
                f"detail_limit={detail_limit!r} is not a number of areas",
                fix="pass a whole number, 0 or more (--detail-limit N)",
            )
        options["detail_limit"] = detail_limit
    unsupported = [name for name in options if name not in accepted]
    if unsupported:
        raise OutputError(
            f"this version of geoclusters cannot set the maps' {' and '.join(unsupported)}",
            fix="leave out --map-format / --dpi (PNG at 150 dpi is written)",
        )
    return options


def check_format(format: str) -> None:
    """Refuse an unknown format, or GeoParquet without pyarrow."""
    if format not in FORMATS:
        raise OutputError(
            f"format={format!r} is not one of {list(FORMATS)}",
            fix="use gpkg (GeoPackage, the default), parquet, fgb (FlatGeobuf) or shp",
        )
    if format == "parquet" and missing_modules(["pyarrow"]):
        raise MissingExtraError(
            "GeoParquet output needs the pyarrow package, which is not installed: "
            "pip install pyarrow (or choose --format gpkg)"
        )


def check_target(out: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check an output folder before any work is done.

    Refused: a path that is a file; a place where no folder can be created; a
    folder that holds files, unless ``overwrite`` and the folder holds a
    previous run (its ``provenance.json``), which is then replaced whole.

    Returns
    -------
    Path
        The target.
    """
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"the output {target} is a file, not a folder",
            fix="choose a folder name for --out (a new or empty folder)",
        )
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:
            raise OutputError(
                f"the output folder {target} is not empty",
                fix="choose a new folder, or pass --overwrite (overwrite=True) to replace a "
                "previous run's folder whole",
            )
        here = Path.cwd().resolve()
        if target.resolve() == here or target.resolve() in here.parents:
            raise OutputError(
                f"the output folder {target} is the folder you are working in (or holds it); "
                "it is not replaced",
                fix="choose a new folder for --out",
            )
        if not (target / RUN_MARKER).is_file():
            raise OutputError(
                f"the output folder {target} holds files that are not a geoclusters run "
                "(no provenance.json); it is not replaced",
                fix="choose a new or empty folder",
            )
    _check_writable(target.parent if not target.exists() else target)
    return target


def _check_writable(folder: Path) -> None:
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"cannot create the output folder {folder}: {existing} is a file",
            fix="choose an output folder whose parent folders are folders",
        )
    try:
        probe = tempfile.mkdtemp(prefix=".geoclusters-probe-", dir=existing)
    except OSError as error:
        raise OutputError(
            f"cannot write in {existing}: {error.strerror or error}",
            fix="choose an output folder in a place you can write to",
        ) from error
    os.rmdir(probe)


@contextlib.contextmanager
def atomic_folder(out: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; move it into place when the block ends.

    When the block raises, the temporary folder is removed and ``out`` is left
    as it was. A previous run in ``out`` (with ``overwrite``) is replaced
    whole.
    """
    target = check_target(out, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.writing-", dir=target.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "previous")
    os.replace(work, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    # mkdtemp creates the folder private to its owner; the outputs are for sharing
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(target, 0o777 & ~mask)


def write_layer(
    frame: gpd.GeoDataFrame, folder: Path, name: str, format: str
) -> tuple[Path, dict[str, str]]:
    """Write one polygon layer; returns its path and any field renames (short → full name).

    Shapefile field names are cut to ten characters, so long names are
    shortened here, uniquely, and the renames are returned for
    ``fields.json``; text longer than a shapefile holds is reported.
    """
    driver, suffix = FORMATS[format]
    path = folder / f"{name}{suffix}"
    renamed: dict[str, str] = {}
    if format == "shp":
        frame, renamed = _short_names(frame)
        _warn_long_text(frame, name, renamed)
    if format == "parquet":
        # the codes as a field, as in the other formats, not as pandas index metadata
        flat = frame.reset_index() if frame.index.name is not None else frame
        flat.to_parquet(path, index=False)
        return path, renamed
    if len(frame):
        frame.to_file(path, layer=name, driver=driver, engine="pyogrio")
    else:
        # an empty layer still needs a geometry type, or GDAL refuses to create it
        import pyogrio

        pyogrio.write_dataframe(
            frame, path, layer=name, driver=driver, geometry_type="MultiPolygon"
        )
    return path, renamed


def _short_names(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    if frame.index.name is not None:
        frame = frame.reset_index()
    taken = {str(c).lower() for c in frame.columns if len(str(c)) <= _SHAPEFILE_FIELD}
    renames: dict[str, str] = {}
    n = 0
    for column in frame.columns:
        text = str(column)
        if column == frame.geometry.name or len(text) <= _SHAPEFILE_FIELD:
            continue
        while True:
            n += 1
            short = f"{text[: _SHAPEFILE_FIELD - 4]}_{n:03d}"
            if short.lower() not in taken:
                break
        taken.add(short.lower())
        renames[text] = short
    return frame.rename(columns=renames), {short: full for full, short in renames.items()}


def _warn_long_text(frame: gpd.GeoDataFrame, name: str, renamed: dict[str, str]) -> None:
    long = []
    for column in frame.columns:
        if column == frame.geometry.name or frame[column].dtype != object:
            continue
        lengths = frame[column].dropna().astype(str).str.len()
        if len(lengths) and lengths.max() > _SHAPEFILE_TEXT:
            long.append(renamed.get(column, column))
    if long:
        warn_user(
            f"{name}.shp: text longer than {_SHAPEFILE_TEXT} characters is cut in the shapefile "
            f"fields {long}; the full text is in the CSV outputs, or use --format gpkg"
        )


def find_layer(folder: Path, name: str) -> Path | None:
    """The path of a written layer in any of the formats, or None."""
    for _, suffix in FORMATS.values():
        path = folder / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def read_layer(path: Path) -> gpd.GeoDataFrame:
    """Read a layer written by :func:`write_layer`, any failure a :class:`ReadError`."""
    try:
        if path.suffix == ".parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except ImportError as error:
        raise MissingExtraError(
            f"reading {path.name} needs pyarrow: pip install pyarrow"
        ) from error
    except Exception as error:  # GDAL and Arrow raise many kinds for damaged files
        raise ReadError(
            f"cannot read {path}: {str(error).splitlines()[0] if str(error) else type(error)}",
            fix="the run's folder is damaged or incomplete (a copy cut short?); write it "
            "again with 'geoclusters run' or 'geoclusters demo'",
        ) from error


def read_json(path: Path) -> dict:
    """Read a JSON output, a damaged file a :class:`ReadError`."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReadError(
            f"cannot read {path}: not complete JSON ({error})",
            fix="the run's folder is damaged or incomplete; write it again with "
            "'geoclusters run' or 'geoclusters demo'",
        ) from error


def read_csv(path: Path, **options) -> pd.DataFrame:
    """Read a CSV output, a damaged file a :class:`ReadError`."""
    try:
        return pd.read_csv(path, **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ReadError(
            f"cannot read {path}: {error}",
            fix="the run's folder is damaged or incomplete; write it again",
        ) from error
