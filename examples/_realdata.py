"""Real UK data for the examples: TTWA boundaries and creative business counts.

No public file holds the TTWA-level counts behind Nesta's 2016 report, so the
examples build an APPROXIMATION from public local-authority data:

- business counts (IDBR, rounded to 5) for 380 GB local authorities (2014
  codes) in 64 industry segments covering the whole economy, about 2015;
- their relative growth since 2010, from which the 2010 counts are back-cast
  (count_2010 = count_2015 / (1 + growth); a blank growth means the 2010 count
  was 0; a growth of −1 means the 2015 count is 0 and the 2010 count is
  unknown, so it is left missing and the 2010 all-industry total sums the
  known segments);
- moved from local authorities to Travel to Work Areas by population-proxy
  weights where the official LSOA -> TTWA lookup allows (the share of each
  English or Welsh authority's LSOAs in each TTWA: LSOAs hold roughly equal
  populations, and their names carry the authority's), and by area weights
  elsewhere (Scotland's data zones carry no council name).

Commuting between TTWAs, for the strength of the links between clusters, is
the 2021 Census (residence -> workplace, local authorities of England and
Wales) moved onto the TTWAs with a local authority -> TTWA lookup.

The data directory is ``$GEOCLUSTERS_DATA`` or ``../shared/data`` beside the
repository. Nothing is copied from it.
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

import geoclusters as gc

WEIGHTING_NOTE = (
    "Weighting: population proxy (the share of an authority's LSOAs in each TTWA) for the "
    "authorities of England and Wales; area weights for Scotland's 32 councils, whose data "
    "zones carry no council name."
)

APPROXIMATION_NOTE = (
    "APPROXIMATION: TTWA counts were moved from local-authority business counts (about "
    "2015, with 2010 back-cast from published growth) by population-proxy weights (area "
    "weights in Scotland); they are not the ONS TTWA tables behind Nesta's 2016 report."
)

COMMUTING_NOTE = (
    "Commuting: 2021 Census residence -> workplace flows between the local authorities of "
    "England and Wales, moved onto the TTWAs (an approximation; taken in a lockdown; no "
    "Scottish flows, so links in Scotland rest on shared groups and profiles)."
)

# industry segments of the Nesta industry data that are creative, as sector groups
CREATIVE_GROUPS = {
    "creative services": ["services_creative"],
    "content": ["services_creative_content"],
    "publishing": ["services_publishing"],
    "computing": ["services_computing"],
}

METHOD_NOTE = (
    f"Sector groups (business counts, 2010 -> 2015): {', '.join(CREATIVE_GROUPS)}. "
    "Rule (Nesta 2016): in each group the 10 areas with the highest location quotient "
    "(concentration) and the 10 with the largest LQ growth, among the areas whose count is in "
    "the top quarter."
)

LONDON = "E30000234"
TUNBRIDGE_WELLS = "E30000281"


def data_dir() -> Path:
    configured = os.environ.get("GEOCLUSTERS_DATA")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared/data"
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    if not (path / "MANIFEST.md").exists():
        raise SystemExit(f"real data not found at {path}: set GEOCLUSTERS_DATA to shared/data")
    return path


@cache
def ttwas():
    """The 228 Travel to Work Areas (2011), EPSG:27700."""
    return gc.read_areas(
        data_dir() / "ttwa2011/ttwa_2011_uk_bsc_bng.gpkg", code="ttwa11cd", name="ttwa11nm"
    )


@cache
def gb_ttwas():
    """The 218 TTWAs of Great Britain: the local-authority counts do not cover Northern Ireland."""
    areas = ttwas()
    return areas[~areas.index.str.startswith("N")]


@cache
def local_authorities():
    """The 380 GB local authority districts of 2014, repaired and projected."""
    return gc.read_areas(
        data_dir() / "lad/lad_uk_2014.topojson",
        code="LAD13CD",
        name="LAD13NM",
        assume_crs="EPSG:4326",
        layer="lad",
        repair=True,
    )


@cache
def local_authority_counts() -> pd.DataFrame:
    """Creative business counts by local authority, 2010 and 2015, with totals."""
    counts_path = data_dir() / "counts/business_counts_lad14_by_segment_2015.csv"
    growth_path = data_dir() / "counts/business_growth_lad14_by_segment_2010_2015.csv"
    end = pd.read_csv(counts_path, dtype=str, keep_default_na=False)
    end = end.rename(columns={end.columns[0]: "area"}).drop(columns="LAD14NM").set_index("area")
    rates = pd.read_csv(growth_path, dtype=str, keep_default_na=False)
    rates = rates.rename(columns={rates.columns[0]: "area"}).drop(columns="LAD14NM")
    rates = rates.set_index("area").reindex(end.index)
    end_values = end.astype(float)
    rate_values = rates.replace("", np.nan).astype(float)
    start_values = (end_values / (1 + rate_values)).round()
    start_values = start_values.where(rate_values.notna(), 0.0)
    start_values = start_values.where(rate_values > -1)

    frames = []
    segments = [s for members in CREATIVE_GROUPS.values() for s in members]
    for period, values in (("2010", start_values), ("2015", end_values)):
        long = values[segments].stack(future_stack=True).rename("value").reset_index()
        long.columns = ["area", "sector", "value"]
        total = values.sum(axis=1, skipna=True).rename("value").reset_index()
        total["sector"] = gc.TOTAL
        frames.append(pd.concat([long, total]).assign(period=period))
    counts = pd.concat(frames, ignore_index=True).assign(measure="businesses", rounded_to=5)
    counts["status"] = np.where(counts["value"].isna(), "missing", "ok")
    return gc.validate_counts(counts)


@cache
def lsoa_lookup() -> pd.DataFrame:
    """The official LSOA (2011) -> TTWA (2011) lookup of the UK."""
    return gc.read_lookup(data_dir() / "lookups/lsoa11_ttwa11_uk.csv")


@cache
def ttwa_lookup(weighting: str = "population") -> pd.DataFrame:
    """Local authority (2014) -> GB TTWA weights: ``"population"`` (proxy) or ``"area"``.

    The population proxy covers England and Wales (the library's built-in
    table gives the 2009 unitary authorities the LSOAs named after their former
    districts, and refuses an authority matching too few LSOAs); Scotland's
    councils fall back to area weights (the ``weighting`` column says which each
    row is).
    """
    areal = gc.areal_lookup(local_authorities(), gb_ttwas())
    if weighting == "area":
        return areal
    with warnings.catch_warnings():
        # the 32 Scottish councils falling back to area weights, as the notes say
        warnings.filterwarnings("ignore", message=r".*match no LSOA name", category=UserWarning)
        return gc.population_lookup(
            lsoa_lookup(), source_names=local_authorities()["name"], fallback=areal
        )


@cache
def ttwa_counts(weighting: str = "population") -> pd.DataFrame:
    """The local-authority counts moved onto the TTWAs (an approximation)."""
    # a missing back-cast cell (2015 count 0, 2010 unknown but small) is skipped,
    # so such TTWA sums are lower bounds rather than missing
    return gc.crosswalk(
        local_authority_counts(),
        ttwa_lookup(weighting),
        source="source",
        target="target",
        weight="weight",
        skipna=True,
    )


@cache
def census_authorities() -> dict[str, str]:
    """Code -> name of the local authorities of the 2021 Census commuting table."""
    path = data_dir() / "commuting/census2021_odwp01ew_ltla.csv.gz"
    raw = pd.read_csv(path, dtype=str, usecols=[0, 1])
    return dict(zip(raw.iloc[:, 0], raw.iloc[:, 1], strict=True))


@cache
def census_lookup() -> pd.DataFrame:
    """Local authority (Census 2021 codes) -> TTWA 2011 weights, for commuting.

    The derived LAD 2023 weights (MSOA representative points; approximate) for
    the authorities that still exist in 2023; the 17 Cumbrian, North Yorkshire
    and Somerset districts of the 2021 Census, merged in 2023, get weights from
    the official LSOA -> TTWA lookup instead, counting their LSOAs (whose names
    carry the district's name; LSOAs hold roughly equal populations).
    """
    derived = pd.read_csv(data_dir() / "lookups/lad23_ttwa11_weights_derived.csv", dtype=str)
    derived = derived.rename(columns={"lad23cd": "source", "ttwa11cd": "target"})
    derived["weight"] = derived["weight"].astype(float)
    names = census_authorities()
    missing = sorted(set(names) - set(derived["source"]))
    lsoas = lsoa_lookup()
    district = lsoas["LSOA11NM"].str.replace(r"\s+\d{3}[A-Z]$", "", regex=True)
    pieces = []
    for code in missing:
        # Somerset West and Taunton (2019) is the former Taunton Deane and West Somerset
        districts = (
            ["Taunton Deane", "West Somerset"]
            if names[code] == "Somerset West and Taunton"
            else [names[code]]
        )
        rows = lsoas[district.isin(districts)]
        if rows.empty:
            raise SystemExit(f"no LSOAs named after {names[code]!r}")
        share = rows.groupby("TTWA11CD").size() / len(rows)
        pieces.append(
            pd.DataFrame({"source": code, "target": share.index, "weight": share.to_numpy()})
        )
    return pd.concat([derived[["source", "target", "weight"]], *pieces], ignore_index=True)


@cache
def ttwa_flows() -> pd.DataFrame:
    """Census 2021 commuters moved onto the TTWAs (an approximation).

    People living in England and Wales who work in Scotland or Northern Ireland
    (workplace codes the lookup lacks) are left out: the 2021 table has no
    residents of Scotland, so links across the border have no flow anyway.
    """
    flows = gc.read_census_flows(data_dir() / "commuting/census2021_odwp01ew_ltla.csv.gz")
    return gc.move_flows(flows, census_lookup(), unmatched="ignore")


def run_ttwas(**options):
    """The whole job on the GB TTWAs with the creative segment groups, 2010 → 2015."""
    options = {"notes": (APPROXIMATION_NOTE, WEIGHTING_NOTE, COMMUTING_NOTE), **options}
    return gc.run(
        gb_ttwas(),
        ttwa_counts(),
        groups=CREATIVE_GROUPS,
        periods=["2010", "2015"],
        flows=ttwa_flows(),
        **options,
    )


# --------------------------------------------------------------------------- shared by the scripts


def output_dir(argv, name: str, description: str) -> Path:
    """Parse ``[--out DIR]``; the default is ``examples-output/<name>`` in the current directory."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python examples/{name}.py", description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("examples-output") / name,
        help=f"directory for the outputs (default: examples-output/{name})",
    )
    return parser.parse_args(argv).out


def codes_by_name(areas, names) -> list[str]:
    """The codes of the areas named exactly ``names``, in order; refuses unknown or shared names."""
    matches = {name: areas.index[areas["name"] == name].tolist() for name in names}
    unknown = [name for name, codes in matches.items() if len(codes) != 1]
    if unknown:
        raise gc.InputError(
            "these names match no area, or more than one",
            rows=unknown,
            fix="use names from the areas' name column, or codes",
        )
    return [matches[name][0] for name in names]


def area_groups(row) -> set[str]:
    """The sector groups an area is a cluster in, in concentration or growth (measures dropped)."""
    text = "; ".join(part for part in (row["concentration_groups"], row["growth_groups"]) if part)
    return {label.split(":", 1)[1] for label in text.split("; ") if label}


def _groups_text(value: str) -> str:
    return ", ".join(label.split(":", 1)[1] for label in value.split("; ") if label) or "-"


def cluster_lines(areas, codes=None) -> list[str]:
    """One line per area (the clusters, or ``codes``): name, type and its groups."""
    rows = areas.loc[list(codes)] if codes is not None else areas[areas["is_cluster"]]
    concentration = rows["concentration_groups"].map(_groups_text)
    name_width = max(len(name) for name in rows["name"]) + 2
    groups_width = max(len("concentration in"), *concentration.str.len()) + 2
    lines = [f"  {'area':<{name_width}}{'type':<20}{'concentration in':<{groups_width}}growth in"]
    for code, row in rows.iterrows():
        lines.append(
            f"  {row['name']:<{name_width}}{row['cluster_type']:<20}"
            f"{concentration[code]:<{groups_width}}{_groups_text(row['growth_groups'])}"
        )
    return lines


def clusters_by_type(areas) -> list[str]:
    """Clusters listed under each type, names wrapped."""
    import textwrap

    lines = []
    for kind in ("both", "high concentration", "high growth"):
        names = sorted(areas.loc[areas["cluster_type"] == kind, "name"])
        text = f"{kind} ({len(names)}): " + (", ".join(names) or "none")
        lines += textwrap.wrap(text, 96, initial_indent="  ", subsequent_indent="      ")
    return lines


def conurbation_lines(merged, areas) -> list[str]:
    """Each conurbation (of a ``Conurbations`` result): id, size, shared groups, members."""
    import textwrap

    conurbations = merged.table
    if not len(conurbations):
        return ["  none: no two neighbouring clusters share a sector group"]
    lines = []
    for key, row in conurbations.iterrows():
        lines.append(f"  {key}: {row['n_members']} areas, sharing {row['sectors'] or '-'}")
        lines += textwrap.wrap(row["name"], 96, initial_indent="      ", subsequent_indent="      ")
    hubs = merged.hubs
    if hubs:
        named = ", ".join(f"{areas.loc[code, 'name']} ({code})" for code in hubs)
        lines.append(f"  kept out of every merge as a hub (still a cluster): {named}")
    return lines


def written_lines(paths) -> list[str]:
    """Where each output was written."""
    width = max(len(key) for key in paths) + 2
    return [f"  {key:<{width}}{path}" for key, path in paths.items()]


def paragraph(text: str, indent: str = "", then: str | None = None, width: int = 96) -> list[str]:
    """``text`` wrapped to ``width`` columns, the first line indented by ``indent``, the rest by
    ``then`` (by default the same)."""
    import textwrap

    return textwrap.wrap(
        text, width, initial_indent=indent, subsequent_indent=indent if then is None else then
    )


@contextmanager
def quiet_repairs():
    """Silence the warning about the repaired local-authority polygons.

    The 2014 TopoJSON's simplified boundaries self-intersect; ``make_valid``
    repairs 355 of them, and the local-authority example says so in its summary.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"repaired \d+ invalid geometries", category=UserWarning
        )
        yield


def run_script(argv, name: str, doc: str, analyse, summary_text) -> int:
    """The body of an example's ``main``: analyse, print the summary, write the outputs."""
    out = output_dir(argv, name, doc.splitlines()[0])
    with quiet_repairs():
        result = analyse()
    print(summary_text(result))
    paths = result.write(out, overwrite=True)
    print("\nWritten:")
    print("\n".join(written_lines(paths)))
    return 0
