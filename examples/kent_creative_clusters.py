"""Creative clusters in Kent and Sussex, on the real Travel to Work Area map.

Nesta's 2016 report *The Geography of Creativity in the UK* found Tunbridge
Wells joining Hastings, Eastbourne and Brighton into one creative
conurbation, with Medway and Canterbury as clusters nearby. This script runs
the same analysis on the 218 TTWAs of Great Britain and shows why the way
clusters are merged matters:

1. the naive sector-aware merge links every pair of neighbouring clusters
   that share a sector group; London is a cluster in almost every group and
   touches eleven TTWAs, so it chains Kent and Sussex to half of the South
   East;
2. kept out as a *hub*, London stays a cluster on its own and the Kent and
   Sussex areas merge only through each other;
3. linking only on the group the four areas share narrows it further.

The counts are an APPROXIMATION moved from local-authority business counts
(see ``_realdata.py``), not the tables behind the report.

Run it::

    python examples/kent_creative_clusters.py [--out DIR]

It prints a summary and writes the usual outputs (``areas.gpkg``,
``clusters.csv``, ``conurbations.gpkg``, ``summary.csv``,
``provenance.json``, ``map.png``, ``lisa.png``, ``map.html``,
``report.html``) of the run with London as a hub, plus
``naive_conurbations.gpkg``, ``kent_map.png`` (zoomed on Kent and Sussex)
and ``kent_map_naive.png`` (the same view without the hub).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import _realdata as real
import geopandas as gpd

import geoclusters as gc

NAME = "kent_creative_clusters"
TITLE = "Creative clusters in Kent and Sussex (TTWAs, approximate counts)"

# the conurbation of the 2016 report
CORE = ["Tunbridge Wells", "Hastings", "Eastbourne", "Brighton"]
# the report's other Kent clusters
KENT = ["Medway", "Canterbury"]
# the map's view: Kent, Sussex and their neighbours along the coast
VIEW = [
    *CORE,
    *KENT,
    "Ashford",
    "Folkestone and Dover",
    "Margate and Ramsgate",
    "Crawley",
    "Worthing",
]


@dataclass(frozen=True)
class KentAnalysis:
    """The run with London as a hub, and the two other ways of merging.

    Attributes
    ----------
    result : geoclusters.RunResult
        Every GB TTWA, London kept out of merges.
    naive : geopandas.GeoDataFrame
        Conurbations merged without a hub.
    narrow : geopandas.GeoDataFrame
        Conurbations merged only on ``shared``, London still a hub.
    shared : list of str
        The sector groups all four core areas are clusters in.
    """

    result: gc.RunResult
    naive: gpd.GeoDataFrame
    narrow: gpd.GeoDataFrame
    shared: list[str]


def analyse(**options) -> KentAnalysis:
    """Run the GB TTWAs with London as a hub and merge the clusters the other two ways."""
    options = {"hubs": (real.LONDON,), "permutations": 199, "title": TITLE, **options}
    result = real.run_ttwas(**options)
    areas = result.areas
    naive = gc.merge_conurbations(areas, result.counts, result.graph, result.detection).table
    groups = [real.area_groups(areas.loc[code]) for code in real.codes_by_name(areas, CORE)]
    shared = sorted(set.intersection(*groups))
    narrow = gc.merge_conurbations(
        areas,
        result.counts,
        result.graph,
        result.detection,
        sectors=shared or None,
        hubs=[real.LONDON],
    ).table
    return KentAnalysis(result, naive, narrow, shared)


def holding(conurbations: gpd.GeoDataFrame, code: str):
    """The row of the conurbation with ``code`` among its members, or None."""
    rows = conurbations[conurbations["members"].str.split(";").map(lambda m: code in m)]
    return rows.iloc[0] if len(rows) else None


def _merge_text(label: str, row, areas, core_codes: list[str]) -> list[str]:
    if row is None:
        return real.paragraph(f"{label}: Tunbridge Wells is in no conurbation.", "  ")
    members = row["members"].split(";")
    core_in = [areas.loc[c, "name"] for c in core_codes if c in members]
    london = "with London" if real.LONDON in members else "without London"
    return [
        *real.paragraph(
            f"{label}: Tunbridge Wells is in a conurbation of {len(members)} TTWAs, {london}, "
            f"holding {', '.join(core_in)}; shared groups: {row['sectors']}.",
            "  ",
            "     ",
        ),
        *real.paragraph(f"Members: {row['name']}.", "     "),
    ]


def summary_text(analysis: KentAnalysis) -> str:
    """What a planner reads: the data, the Kent and Sussex clusters and the three merges."""
    result = analysis.result
    areas = result.areas
    core_codes = real.codes_by_name(areas, CORE)
    view_codes = real.codes_by_name(areas, VIEW)
    london = areas.loc[real.LONDON]
    london_groups = ", ".join(sorted(real.area_groups(london))) or "none"
    n_neighbours = len(result.graph[real.LONDON])
    canterbury, medway = (
        areas.loc[code] for code in real.codes_by_name(areas, ["Canterbury", "Medway"])
    )
    medway_groups = ", ".join(sorted(real.area_groups(medway))) or "no group"

    lines = [
        TITLE,
        "=" * len(TITLE),
        *real.paragraph(real.APPROXIMATION_NOTE),
        *real.paragraph(
            f"Areas: {len(areas)} Travel to Work Areas of Great Britain (2011); Northern "
            "Ireland's 10 are left out because the local-authority counts cover Great Britain "
            "only."
        ),
        *real.paragraph(real.METHOD_NOTE),
        "",
        "Kent and Sussex",
        *real.cluster_lines(areas, view_codes),
        *real.paragraph(f"London: {london['cluster_type']} (a cluster in {london_groups}).", "  "),
        *real.paragraph(
            "Compared with Nesta (2016): the report had Canterbury as high concentration and "
            "Medway as high growth, both in architecture. These counts have no separate "
            "architecture segment (it sits inside wider professional-service segments), so "
            f"Canterbury is '{canterbury['cluster_type']}' here and Medway is "
            f"'{medway['cluster_type']}' in {medway_groups}.",
            "  ",
        ),
        "",
        "Merging neighbouring clusters into conurbations, three ways",
        *_merge_text(
            "1. Naive (no hub)", holding(analysis.naive, core_codes[0]), areas, core_codes
        ),
        *real.paragraph(
            f"Why: London is a cluster in {london_groups} and touches {n_neighbours} TTWAs, so "
            "almost every cluster around it shares a group with it, and the merge chains them "
            "all into one South-East blob.",
            "     ",
        ),
        *_merge_text(
            "2. London kept out as a hub",
            holding(result.conurbations, core_codes[0]),
            areas,
            core_codes,
        ),
        *real.paragraph(
            "London stays a cluster on its own. The rest still chain through shared groups: "
            "publishing and content clusters are dense across the South East in this data.",
            "     ",
        ),
        *_merge_text(
            f"3. Only the group(s) all four share ({', '.join(analysis.shared) or 'none'}), "
            "London a hub",
            holding(analysis.narrow, core_codes[0]),
            areas,
            core_codes,
        ),
        "",
        "All conurbations (London as a hub, every group)",
        *real.conurbation_lines(result.merged, areas),
    ]
    return "\n".join(lines)


def kent_map(result: gc.RunResult, conurbations: gpd.GeoDataFrame, title: str):
    """The typology map zoomed on Kent and Sussex, conurbations outlined, areas named.

    ``typology_map`` labels conurbations only, at a point of their whole polygon
    that a zoomed view may not show, so the areas in view are named here.
    """
    import matplotlib.patheffects as effects

    areas = result.areas
    figure = gc.typology_map(
        areas, conurbations, title=title, extent=real.codes_by_name(areas, VIEW)
    )
    ax = figure.axes[0]
    (xmin, xmax), (ymin, ymax) = ax.get_xlim(), ax.get_ylim()
    for code, point in areas.geometry.representative_point().items():
        if xmin <= point.x <= xmax and ymin <= point.y <= ymax:
            ax.annotate(
                textwrap.fill(areas.loc[code, "name"], 14),
                xy=(point.x, point.y),
                ha="center",
                va="center",
                fontsize=7,
                path_effects=[effects.withStroke(linewidth=2.5, foreground="white")],
                zorder=6,
            )
    return figure


def main(argv=None) -> int:
    """Run, print the summary and write the outputs; returns the exit status."""
    out = real.output_dir(argv, NAME, __doc__.splitlines()[0])
    with real.quiet_repairs():
        analysis = analyse()
    print(summary_text(analysis))

    paths = analysis.result.write(out)
    paths["naive_conurbations"] = out / "naive_conurbations.gpkg"
    analysis.naive.to_file(paths["naive_conurbations"], layer="conurbations", engine="pyogrio")
    for key, conurbations, title in (
        ("kent_map", analysis.result.conurbations, TITLE + "\nLondon kept out as a hub"),
        ("kent_map_naive", analysis.naive, TITLE + "\nNaive merge, no hub"),
    ):
        figure = kent_map(analysis.result, conurbations, title)
        paths[key] = out / f"{key}.png"
        figure.savefig(paths[key], dpi=150, bbox_inches="tight")
    print("\nWritten (run with London as a hub):")
    print("\n".join(real.written_lines(paths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
