"""Areas: polygons with a unique code and a name, in a projected CRS.

Every later stage indexes areas by their code, measures distances and areas in
metres and relies on valid geometry, so problems are caught here, on entry,
and reported by code: duplicate or missing codes, missing or empty geometry,
invalid geometry (repaired with :func:`shapely.make_valid` only when asked) and
a missing CRS.
"""

from __future__ import annotations

import warnings
from os import PathLike

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .errors import InputError

BRITISH_NATIONAL_GRID = "EPSG:27700"

# lon/lat box of the United Kingdom and its islands; data inside it is
# projected to the British National Grid, as ONS and OS publish it.
_UK_BOUNDS = (-14.0, 49.0, 3.0, 61.5)


def read_areas(
    source: str | PathLike | gpd.GeoDataFrame,
    code: str,
    name: str | None = None,
    crs: str | int | CRS | None = None,
    *,
    assume_crs: str | int | CRS | None = None,
    layer: str | int | None = None,
    repair: bool = False,
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
        Layer of a multi-layer source (a GeoPackage or TopoJSON object).
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid`, keeping
        their polygonal parts; the repaired codes are listed in
        ``result.attrs["repaired"]`` and in a warning.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the code as ``str`` (index name ``"area"``), with a
        ``name`` column, the geometry and every other input column.

    Raises
    ------
    InputError
        For duplicate or missing codes, missing or empty geometries, invalid
        geometries when ``repair`` is false, a missing CRS or non-polygonal
        geometries, naming the rows concerned.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame({"cd": ["A", "B"], "nm": ["West", "East"]},
    ...                        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700)
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
            raise InputError(
                "the areas declare no coordinate reference system",
                fix="pass assume_crs= with the CRS the coordinates are in "
                "(EPSG:4326 for longitude/latitude, EPSG:27700 for British National Grid)",
            )
        frame = frame.set_crs(assume_crs)
    codes = frame[code_column]
    names = frame[name_column]
    frame = frame.drop(columns=list({code_column, name_column} | ({"name"} & set(frame.columns))))
    frame.insert(0, "name", names.astype("string").fillna(codes.astype("string")).astype(str))
    frame.index = pd.Index(_code_strings(codes, frame.index), name="area")
    # Validity is checked after projecting: reprojection can itself create
    # self-intersections in generalised boundaries.
    return validate_areas(frame.to_crs(_target_crs(frame, crs)), repair=repair)


def validate_areas(areas: gpd.GeoDataFrame, repair: bool = False) -> gpd.GeoDataFrame:
    """Check an areas GeoDataFrame indexed by code; optionally repair geometry.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Indexed by area code, with a CRS.
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with a string index named ``"area"``; ``attrs["repaired"]``
        lists repaired codes.

    Raises
    ------
    InputError
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
    geoclusters.errors.InputError: duplicate area codes
      rows (1): 'X'
      what to do: make the codes unique (two polygons of one area can be joined with dissolve)
    """
    if areas.crs is None:
        raise InputError(
            "the areas have no coordinate reference system",
            fix="set one with GeoDataFrame.set_crs before passing the areas",
        )
    out = areas.copy()
    out.index = pd.Index(_code_strings(pd.Series(out.index), out.index), name="area")
    duplicated = out.index[out.index.duplicated()].unique()
    if len(duplicated):
        raise InputError(
            "duplicate area codes",
            rows=duplicated,
            fix="make the codes unique (two polygons of one area can be joined with dissolve)",
        )
    geometry = out.geometry
    missing = geometry.isna()
    if missing.any():
        raise InputError(
            "areas without geometry", rows=out.index[missing], fix="add their polygons or drop them"
        )
    empty = geometry.is_empty
    if empty.any():
        raise InputError(
            "areas with empty geometry",
            rows=out.index[empty],
            fix="add their polygons or drop them",
        )
    polygonal = geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygonal.all():
        kinds = geometry[~polygonal].geom_type.unique().tolist()
        raise InputError(
            f"areas must be polygons; found {kinds}",
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
            raise InputError(
                f"{len(codes)} invalid geometries (for example {examples})",
                rows=codes,
                fix="pass repair=True to repair them with shapely.make_valid, or fix them in GIS",
            )
        # the "structure" method keeps polygons polygons (no stray lines) and is
        # several times faster than the default on generalised boundaries
        fixed = shapely.make_valid(
            geometry[invalid].to_numpy(), method="structure", keep_collapsed=False
        )
        out.loc[invalid, out.geometry.name] = [_polygonal_part(g) for g in fixed]
        repaired = codes
        shown = ", ".join(codes[:10]) + (f" and {len(codes) - 10} more" if len(codes) > 10 else "")
        warnings.warn(
            f"repaired {len(codes)} invalid geometries with make_valid: {shown} "
            "(all listed in attrs['repaired'])",
            stacklevel=2,
        )
    out.attrs["repaired"] = repaired
    return out


def _read_file(source, layer) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(source, layer=layer, engine="pyogrio")
    except Exception as error:  # pyogrio raises several DataSource errors
        raise InputError(
            f"cannot read areas from {source}: {error}",
            fix="check the path and format (GeoPackage, GeoJSON, shapefile, TopoJSON)",
        ) from error


def _find_column(frame: pd.DataFrame, wanted: str, role: str) -> str:
    if wanted in frame.columns:
        return wanted
    matches = [c for c in frame.columns if str(c).lower() == wanted.lower()]
    if len(matches) == 1:
        return matches[0]
    raise InputError(
        f"no {role} column {wanted!r} in the areas",
        fix=f"choose one of {[c for c in frame.columns if c != frame.geometry.name]}",
    )


def _code_strings(codes: pd.Series, index) -> list[str]:
    text = codes.astype("string").str.strip()
    missing = text.isna() | (text == "")
    if missing.any():
        raise InputError(
            "areas without a code",
            rows=list(pd.Index(index)[missing.to_numpy()]),
            fix="give every area a code (row positions are shown)",
        )
    return text.astype(str).tolist()


def _polygonal_part(geometry):
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    polygons = [
        g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not polygons:
        raise InputError("a geometry has no area left after repair", rows=[geometry.wkt[:60]])
    return shapely.union_all(polygons)


def _target_crs(areas: gpd.GeoDataFrame, crs):
    if crs is not None:
        target = CRS.from_user_input(crs)
        if not target.is_projected:
            raise InputError(
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
