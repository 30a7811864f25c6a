"""Areas: polygons with a unique code and a name, in a projected CRS.

Every later stage indexes areas by their code, measures distances and areas in
metres and relies on valid geometry, so problems are caught here, on entry,
and reported by code:

- files: a missing, empty (0-byte) or corrupt file, and a missing layer or
  several layers without ``layer=`` are :class:`~geoclusters.errors.ReadError`
  naming the layers;
- codes: duplicate or blank codes are :class:`~geoclusters.errors.CodesError`;
  codes are read as text (leading zeros kept) and stripped of surrounding
  spaces (a reported repair);
- CRS: a missing CRS, and coordinates that contradict the declared CRS
  (British National Grid metres declared as longitude/latitude, longitude/
  latitude declared as EPSG:27700, coordinates outside the CRS's area of use)
  are :class:`~geoclusters.errors.CRSError`;
- geometry: null or empty geometries are a
  :class:`~geoclusters.errors.GeometryError`, or are set aside with
  ``empty="drop"`` (warned and accounted); invalid geometries are repaired
  with :func:`shapely.make_valid` only when asked (``repair=True``), as are
  geometry collections that hold polygons (their polygonal part is kept);
  points and lines are refused; Z coordinates are dropped (a reported
  repair: heights play no part in areas).
"""

from __future__ import annotations

import os
from os import PathLike

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from ._accounting import InputAccount, Ledger, SetAside, record
from ._keywords import options_were_positional
from ._readers import source_name
from ._warn import warn_user
from .errors import CodesError, CRSError, GeometryError, InputError, ReadError

BRITISH_NATIONAL_GRID = "EPSG:27700"

# lon/lat box of the United Kingdom and its islands; data inside it is
# projected to the British National Grid, as ONS and OS publish it.
_UK_BOUNDS = (-14.0, 49.0, 3.0, 61.5)
_POLICIES_EMPTY = ("raise", "drop")


@options_were_positional("code", "name", "crs")
def read_areas(
    source: str | PathLike | gpd.GeoDataFrame,
    *,
    code: str,
    name: str | None = None,
    crs: str | int | CRS | None = None,
    assume_crs: str | int | CRS | None = None,
    layer: str | int | None = None,
    repair: bool = False,
    empty: str = "raise",
    ledger: Ledger | None = None,
) -> gpd.GeoDataFrame:
    """Read polygons into a validated areas GeoDataFrame.

    Parameters
    ----------
    source : path or geopandas.GeoDataFrame
        A GeoPackage, GeoJSON, shapefile, TopoJSON or any other vector format
        GDAL reads (through pyogrio), or a GeoDataFrame.
    code : str
        Column with the unique area codes (matched case-insensitively, since
        ONS writes ``TTWA11CD`` in some products and ``ttwa11cd`` in others).
    name : str, optional
        Column with the area names; the codes are used when omitted.
    crs : CRS-like, optional
        Projected CRS of the result. By default a projected input keeps its
        CRS; a geographic one is projected to EPSG:27700 when it lies in the
        UK and to its UTM zone otherwise.
    assume_crs : CRS-like, optional
        CRS of an input that declares none (TopoJSON often does not). Without
        it such an input is an error: guessing a CRS silently misplaces areas.
    layer : str or int, optional
        Layer of a multi-layer source (a GeoPackage or TopoJSON object);
        required when the source has several.
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid`, keeping
        their polygonal parts, and keep the polygonal part of geometry
        collections; the repaired codes are listed in
        ``result.attrs["repaired"]`` and in a warning.
    empty : {"raise", "drop"}, default "raise"
        Areas with a null or empty geometry: raise a GeometryError naming
        them, or drop them with a warning (and in the ledger's account).
    ledger : Ledger, optional
        Receives an account of the areas read, kept and set aside, and the
        repairs made.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the code as ``str`` (index name ``"area"``), with a
        ``name`` column, the geometry and every other input column.

    Raises
    ------
    ReadError
        For a missing, empty or corrupt file, or a missing or ambiguous layer.
    CRSError
        For a missing CRS or coordinates that contradict it.
    CodesError
        For duplicate or blank codes, or a code column that is not there.
    GeometryError
        For null or empty geometries (unless ``empty="drop"``), invalid ones
        without ``repair``, and points or lines.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame({"cd": ["A", "B"], "nm": ["West", "East"]},
    ...                        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
    ...                        crs=27700)
    >>> areas = read_areas(raw, code="CD", name="nm")
    >>> list(areas.index), list(areas["name"])
    (['A', 'B'], ['West', 'East'])
    """
    if isinstance(source, gpd.GeoDataFrame):
        frame = source.copy()
    else:
        frame = _read_file(source, layer)
    code_column = _find_column(frame, code, "code")
    name_column = _find_column(frame, name, "name") if name is not None else code_column
    if frame.crs is None:
        if assume_crs is None:
            raise CRSError(
                "the areas declare no coordinate reference system",
                fix="pass assume_crs= with the CRS the coordinates are in "
                "(EPSG:4326 for longitude/latitude, EPSG:27700 for British National Grid)",
            )
        try:
            frame = frame.set_crs(assume_crs)
        except Exception as error:  # pyproj raises its own CRSError
            raise CRSError(
                f"assume_crs={assume_crs!r} is not a CRS ({error})",
                fix="pass an EPSG code such as 'EPSG:4326' or 'EPSG:27700'",
            ) from error
    codes = frame[code_column]
    names = frame[name_column]
    frame = frame.drop(columns=list({code_column, name_column} | ({"name"} & set(frame.columns))))
    frame.insert(0, "name", names.astype("string").fillna(codes.astype("string")).astype(str))
    text, padded = _code_strings(codes, frame.index)
    frame.index = pd.Index(text, name="area")
    check_coordinates(frame)
    # Validity is checked after projecting: reprojection can itself create
    # self-intersections in generalised boundaries. Null and empty geometries
    # are set aside first so that projecting does not hide them.
    frame, set_aside = _null_and_empty(frame, empty)
    projected = frame.to_crs(_target_crs(frame, crs))
    out, repairs = _validate(projected, repair)
    if padded:
        repairs = (f"stripped surrounding spaces from {padded} codes", *repairs)
    record(
        ledger,
        InputAccount(
            "areas",
            source_name(source) if not isinstance(source, gpd.GeoDataFrame) else "<GeoDataFrame>",
            len(codes),
            len(out),
            unit="areas",
            set_aside=set_aside,
            repairs=repairs,
        ),
    )
    return out


@options_were_positional("repair")
def validate_areas(
    areas: gpd.GeoDataFrame,
    *,
    repair: bool = False,
    empty: str = "raise",
    ledger: Ledger | None = None,
) -> gpd.GeoDataFrame:
    """Check an areas GeoDataFrame indexed by code; optionally repair geometry.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code, with a CRS.
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid`.
    empty : {"raise", "drop"}, default "raise"
        As for :func:`read_areas`.
    ledger : Ledger, optional
        Receives an account of the areas in, out and set aside.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with a string index named ``"area"``; ``attrs["repaired"]``
        lists repaired codes.

    Raises
    ------
    CRSError, CodesError, GeometryError
        As :func:`read_areas`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"name": ["a", "b"]}, index=["X", "X"],
    ...                          geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700)
    >>> validate_areas(areas)
    Traceback (most recent call last):
    ...
    geoclusters.errors.CodesError: duplicate area codes
      rows (1): 'X'
      what to do: make the codes unique (two polygons of one area can be joined with dissolve)
    """
    if not isinstance(areas, gpd.GeoDataFrame):
        raise GeometryError(
            f"areas must be a GeoDataFrame, not {type(areas).__name__}",
            fix="read boundaries with geoclusters.read_areas",
        )
    if areas.crs is None:
        raise CRSError(
            "the areas have no coordinate reference system",
            fix="set one with GeoDataFrame.set_crs before passing the areas",
        )
    out = areas.copy()
    text, padded = _code_strings(pd.Series(out.index), out.index)
    out.index = pd.Index(text, name="area")
    check_coordinates(out)
    out, set_aside = _null_and_empty(out, empty)
    out, repairs = _validate(out, repair)
    if padded:
        repairs = (f"stripped surrounding spaces from {padded} codes", *repairs)
    record(
        ledger,
        InputAccount("areas", "<GeoDataFrame>", len(areas), len(out), "areas", set_aside, repairs),
    )
    return out


def _null_and_empty(frame: gpd.GeoDataFrame, empty: str):
    if empty not in _POLICIES_EMPTY:
        raise InputError(f"empty={empty!r} is not one of {list(_POLICIES_EMPTY)}")
    if frame.empty:
        raise GeometryError("there are no areas", fix="check the file, layer or filter")
    duplicated = frame.index[frame.index.duplicated()].unique()
    if len(duplicated):
        raise CodesError(
            "duplicate area codes",
            rows=duplicated,
            fix="make the codes unique (two polygons of one area can be joined with dissolve)",
        )
    geometry = frame.geometry
    null = geometry.isna().to_numpy()
    blank = ~null & geometry.is_empty.to_numpy()
    set_aside = []
    for mask, what in ((null, "without geometry (null)"), (blank, "with empty geometry")):
        if not mask.any():
            continue
        codes = list(frame.index[mask])
        if empty == "raise":
            raise GeometryError(
                f"areas {what}",
                rows=codes,
                fix="add their polygons, or pass empty='drop' to set them aside (reported)",
            )
        set_aside.append(SetAside(f"{what}, dropped (empty='drop')", tuple(codes)))
        warn_user(f"dropped {len(codes)} areas {what} (empty='drop'): {_shown(codes)}", UserWarning)
    if set_aside:
        frame = frame[~(null | blank)]
        if frame.empty:
            raise GeometryError("no area has a geometry", fix="check the file and its layer")
    return frame, tuple(set_aside)


def _validate(out: gpd.GeoDataFrame, repair: bool) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """Z values, geometry types and validity of areas without null or empty geometry."""
    repairs: list[str] = []
    column = out.geometry.name
    has_z = np.asarray(shapely.has_z(out.geometry.array), dtype=bool)
    if has_z.any():
        out[column] = gpd.GeoSeries(
            shapely.force_2d(np.asarray(out.geometry.array)), index=out.index, crs=out.crs
        )
        repairs.append(f"dropped Z coordinates of {int(has_z.sum())} areas")
        warn_user(
            f"dropped the Z (height) coordinates of {int(has_z.sum())} areas; areas are "
            "measured on the plane",
            UserWarning,
        )
    geometry = out.geometry
    kinds = geometry.geom_type
    collections = kinds.isin(["GeometryCollection"]).to_numpy()
    if collections.any():
        codes = list(out.index[collections])
        parts = [_polygonal_part(g, c) for g, c in zip(geometry[collections], codes, strict=True)]
        if not repair:
            raise GeometryError(
                "areas whose geometry is a collection of mixed types",
                rows=codes,
                fix="pass repair=True to keep their polygonal parts, or fix them in GIS",
            )
        out.loc[collections, column] = parts
        repairs.append(f"kept the polygonal part of {len(codes)} geometry collections")
        warn_user(
            f"kept the polygonal part of {len(codes)} geometry collections: {_shown(codes)}",
            UserWarning,
        )
        geometry = out.geometry
        kinds = geometry.geom_type
    polygonal = kinds.isin(["Polygon", "MultiPolygon"])
    if not polygonal.all():
        found = kinds[~polygonal].unique().tolist()
        raise GeometryError(
            f"areas must be polygons; found {found}",
            rows=out.index[~polygonal],
            fix="buffer points or lines into polygons, or remove them",
        )
    invalid = ~geometry.is_valid
    repaired: list[str] = []
    if invalid.any():
        reasons = shapely.is_valid_reason(geometry[invalid].to_numpy())
        codes = list(out.index[invalid])
        if not repair:
            examples = "; ".join(f"{c}: {r}" for c, r in list(zip(codes, reasons, strict=True))[:5])
            raise GeometryError(
                f"{len(codes)} invalid geometries (for example {examples})",
                rows=codes,
                fix="pass repair=True to repair them with shapely.make_valid, or fix them in GIS",
            )
        # the "structure" method keeps polygons polygons (no stray lines) and is
        # several times faster than the default on generalised boundaries
        fixed = shapely.make_valid(
            geometry[invalid].to_numpy(), method="structure", keep_collapsed=False
        )
        out.loc[invalid, column] = [
            _polygonal_part(g, c) for g, c in zip(fixed, codes, strict=True)
        ]
        repaired = codes
        repairs.append(f"repaired {len(codes)} invalid geometries with make_valid")
        warn_user(
            f"repaired {len(codes)} invalid geometries with make_valid: {_shown(codes)} "
            "(all listed in attrs['repaired'])"
        )
    out.attrs["repaired"] = repaired
    return out, tuple(repairs)


def check_coordinates(frame: gpd.GeoDataFrame) -> None:
    """Raise CRSError when the coordinates cannot be in the declared CRS.

    Longitude/latitude must lie within +-180/+-90; projected coordinates
    that all lie within +-180/+-90 and, read as degrees, fall in the CRS's
    area of use are longitude/latitude mislabelled (the whole layer would
    span a few hundred metres); and a projected layer must lie in its CRS's
    area of use, with a margin.
    """
    crs = frame.crs
    geometry = frame.geometry
    present = geometry[~(geometry.isna() | geometry.is_empty)]
    if present.empty or crs is None:
        return
    west, south, east, north = present.total_bounds
    if not np.all(np.isfinite([west, south, east, north])):
        raise CRSError(
            "the areas have non-finite coordinates (inf or NaN)",
            rows=list(present.index[~np.isfinite(present.bounds).all(axis=1).to_numpy()]),
            fix="repair or remove those geometries",
        )
    lonlat_like = west >= -180 and east <= 180 and south >= -90 and north <= 90
    if crs.is_geographic and not lonlat_like:
        bng = west >= -1e6 and east <= 1e6 and south >= -1e6 and north <= 2e6
        raise CRSError(
            f"the areas declare {crs.name} (longitude/latitude) but their coordinates run "
            f"from ({west:.0f}, {south:.0f}) to ({east:.0f}, {north:.0f}), beyond +-180/+-90: "
            "they are projected coordinates"
            + (", most likely British National Grid metres" if bng else ""),
            fix="declare the CRS the coordinates are in: assume_crs='EPSG:27700' for a file "
            "without a CRS, or .set_crs('EPSG:27700', allow_override=True) for a mislabelled one",
        )
    use = crs.area_of_use
    if crs.is_projected and lonlat_like and use is not None:
        # Read as degrees, do the coordinates fall where this CRS is used?
        # Then they are longitude/latitude mislabelled (the UK would be a few
        # metres across); small synthetic grids near the origin are not.
        centre_lon, centre_lat = (west + east) / 2, (south + north) / 2
        if (
            use.west - 1 <= centre_lon <= use.east + 1
            and use.south - 1 <= centre_lat <= use.north + 1
            and (east - west > 0.05 or north - south > 0.05)
        ):
            raise CRSError(
                f"the areas declare {crs.name} (a projected CRS, in metres) but every "
                f"coordinate lies within +-180/+-90 (from ({west:.4g}, {south:.4g}) to "
                f"({east:.4g}, {north:.4g})), where longitude/latitude would put them in "
                f"{use.name.split(' - ')[0]}: they are longitude/latitude, and the areas "
                f"would be {east - west:.3g} m across",
                fix="declare EPSG:4326: assume_crs='EPSG:4326' for a file without a CRS, or "
                ".set_crs('EPSG:4326', allow_override=True) for a mislabelled one",
            )
    if use is None or crs.is_geographic:
        return
    try:
        to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
        centre_lon, centre_lat = to_lonlat.transform((west + east) / 2, (south + north) / 2)
    except Exception:  # pyproj cannot transform: leave the check to reprojection
        return
    margin_x = max(2.0, 0.25 * (use.east - use.west))
    margin_y = max(2.0, 0.25 * (use.north - use.south))
    inside = (
        np.isfinite(centre_lon)
        and np.isfinite(centre_lat)
        and use.west - margin_x <= centre_lon <= use.east + margin_x
        and use.south - margin_y <= centre_lat <= use.north + margin_y
    )
    if not inside:
        raise CRSError(
            f"the areas lie outside the area of use of their declared CRS {crs.name} "
            f"({use.name}): their centre would be at longitude {centre_lon:.4g}, latitude "
            f"{centre_lat:.4g}",
            fix="declare the CRS the coordinates are really in (assume_crs= for a file "
            "without one, .set_crs(..., allow_override=True) for a mislabelled one)",
        )


def layer_fields(source: str | PathLike, layer: str | int | None = None) -> list[str]:
    """The attribute fields of a boundary file's layer, after the checks of :func:`read_areas`.

    For a command line or a form that offers the columns to choose from.

    Raises
    ------
    ReadError
        For a missing, empty or corrupt file, or a missing or ambiguous layer
        (the layers are named).

    Examples
    --------
    >>> import os
    >>> data = os.environ.get("GEOCLUSTERS_DATA", "../shared/data")
    >>> layer_fields(f"{data}/ttwa2011/ttwa_2011_uk_bsc_bng.gpkg")[:2]
    ['ttwa11cd', 'ttwa11nm']
    """
    path, layer = _checked_layer(source, layer)
    try:
        return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception as error:  # pyogrio raises several DataSource errors
        raise ReadError(
            f"cannot read the fields of {path}: {_gdal_message(error)}",
            fix="check that the file is complete; a truncated or corrupt file must be "
            "downloaded again",
        ) from error


def _checked_layer(source, layer) -> tuple[str, str | int | None]:
    path = os.fspath(source)
    if not os.path.exists(path):
        raise ReadError(f"areas file not found: {path}", fix="check the path")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise ReadError(
            f"the areas file {path} is empty (0 bytes)",
            fix="check that the download or export finished, and read the complete file",
        )
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as error:  # pyogrio raises several DataSource errors
        raise ReadError(
            f"cannot read areas from {path}: {_gdal_message(error)}",
            fix="check that the file is complete and in a vector format (GeoPackage, GeoJSON, "
            "shapefile, TopoJSON); a truncated or corrupt file must be downloaded again",
        ) from error
    if layer is None and len(layers) > 1:
        raise ReadError(
            f"{path} holds {len(layers)} layers: {', '.join(layers)}",
            rows=layers,
            fix="choose one with layer='<name>' (on the command line: --layer)",
        )
    if isinstance(layer, str) and layer not in layers:
        raise ReadError(
            f"{path} has no layer {layer!r}; its layers are: {', '.join(layers)}",
            rows=layers,
            fix="pass one of these as layer=",
        )
    if isinstance(layer, int) and not 0 <= layer < len(layers):
        raise ReadError(
            f"{path} has no layer number {layer}; it has {len(layers)}: {', '.join(layers)}",
            fix="pass a layer name or a number from 0",
        )
    return path, layer


def _read_file(source, layer) -> gpd.GeoDataFrame:
    path, layer = _checked_layer(source, layer)
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as error:  # pyogrio raises several DataSource errors
        raise ReadError(
            f"cannot read areas from {path}: {_gdal_message(error)}",
            fix="check that the file is complete; a truncated or corrupt file must be "
            "downloaded again",
        ) from error


def _gdal_message(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__


def _shown(codes, limit: int = 10) -> str:
    codes = [str(c) for c in codes]
    return ", ".join(codes[:limit]) + (
        f" and {len(codes) - limit} more" if len(codes) > limit else ""
    )


def _find_column(frame: pd.DataFrame, wanted: str, role: str) -> str:
    if wanted in frame.columns:
        return wanted
    matches = [c for c in frame.columns if str(c).lower() == wanted.lower()]
    if len(matches) == 1:
        return matches[0]
    raise CodesError(
        f"no {role} column {wanted!r} in the areas",
        fix=f"choose one of {[c for c in frame.columns if c != frame.geometry.name]}",
    )


def _code_strings(codes: pd.Series, index) -> tuple[list[str], int]:
    """Codes as stripped text, and how many had surrounding spaces."""
    if pd.api.types.is_float_dtype(codes):
        # an integer code column with a gap is read as floats: 101.0 is code "101"
        codes = codes.map(lambda c: str(int(c)) if pd.notna(c) and float(c).is_integer() else c)
    raw = codes.astype("string")
    text = raw.str.strip()
    missing = text.isna() | (text == "")
    if missing.any():
        raise CodesError(
            "areas without a code",
            rows=list(pd.Index(index)[missing.to_numpy()]),
            fix="give every area a code (row positions are shown)",
        )
    padded = int((raw != text).sum())
    return text.astype(str).tolist(), padded


def _polygonal_part(geometry, code):
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    polygons = [
        g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not polygons:
        raise GeometryError(
            "an area has no polygon (no area left after repair, or only points and lines)",
            rows=[code],
            fix="give it a polygon or remove it",
        )
    return shapely.union_all(polygons)


def _target_crs(areas: gpd.GeoDataFrame, crs):
    if crs is not None:
        try:
            target = CRS.from_user_input(crs)
        except Exception as error:  # pyproj raises its own CRSError
            raise CRSError(
                f"crs={crs!r} is not a CRS ({error})", fix="pass an EPSG code such as 'EPSG:27700'"
            ) from error
        if not target.is_projected:
            raise CRSError(
                f"{target.name} is not a projected CRS; distances and areas need one",
                fix="pass a projected CRS such as EPSG:27700, or leave crs unset",
            )
        return target
    if areas.crs.is_projected:
        return areas.crs
    west, south, east, north = areas.to_crs(4326).total_bounds
    inside_uk = np.all(
        [
            west >= _UK_BOUNDS[0],
            south >= _UK_BOUNDS[1],
            east <= _UK_BOUNDS[2],
            north <= _UK_BOUNDS[3],
        ]
    )
    return CRS.from_user_input(BRITISH_NATIONAL_GRID) if inside_uk else areas.estimate_utm_crs()
