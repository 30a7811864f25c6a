"""Creative clusters in Kent and Sussex, on the real Travel to Work Area map.

Nesta's 2016 report *The Geography of Creativity in the UK* found Tunbridge
Wells joining Hastings, Eastbourne and Brighton into one creative
conurbation, with Medway and Canterbury as clusters nearby. This script runs
the same analysis on the 218 TTWAs of Great Britain and shows why the way
clusters are merged matters, three ways side by side:

1. the naive merge (``method="components"``, the 0.1 rule): every pair of
   neighbouring clusters that share a sector group is linked, however weakly,
   and a connected chain is one conurbation; London is a cluster in almost
   every group and touches eleven TTWAs, so it chains Kent and Sussex to half
   of the South East;
2. the same with London named a hub by hand: still a chain, through Crawley
   and Guildford;
3. the default: every link scored by the groups the two areas share, the
   2021 Census commuting between them and how alike their sector profiles
   are, conurbations built so that one weak link cannot join two blocs, and
   hubs found from the links (no hub named).

It then prints what the links table says about each of Tunbridge Wells's
links. The counts are an APPROXIMATION moved from local-authority business
counts by population-proxy weights (see ``_realdata.py``), not the tables
behind the report.

Run it::

    python examples/kent_creative_clusters.py [--out DIR]

It prints a summary and writes the usual outputs of the default run
(``areas.gpkg``, ``clusters.csv``, ``conurbations.gpkg``, ``links.csv``,
``summary.csv``, ``provenance.json``, ``map.png``, ``lisa.png``,
``map.html``, ``report.html``), plus ``naive_conurbations.gpkg``,
``hub_conurbations.gpkg``, ``kent_map.png`` (zoomed on Kent and Sussex) and
``kent_map_naive.png`` (the same view, naive merge).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import _realdata as real

import geoclusters as gc

NAME = "kent_creative_clusters"
TITLE = "Creative clusters in Kent and Sussex (TTWAs, approximate counts, population-proxy weights)"

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
    """The default run, and the two other ways of merging its clusters.

    Attributes
    ----------
    result : geoclusters.RunResult
        Every GB TTWA, default merging (cohesion, hubs found, commuting).
    naive : geoclusters.Conurbations
        The 0.1 merge: connected components of the links sharing a group.
    by_hand : geoclusters.Conurbations
        The 0.1 merge with London named a hub.
    """

    result: gc.RunResult
    naive: gc.Conurbations
    by_hand: gc.Conurbations


def analyse(**options) -> KentAnalysis:
    """Run the GB TTWAs with the defaults and merge the clusters the two old ways."""
    options = {"permutations": 199, "title": TITLE, **options}
    result = real.run_ttwas(**options)
    old = {"method": "components", "flows": real.ttwa_flows()}
    data = (result.areas, result.counts, result.graph, result.detection)
    naive = gc.merge_conurbations(*data, hubs=None, **old)
    by_hand = gc.merge_conurbations(*data, hubs=[real.LONDON], **old)
    return KentAnalysis(result, naive, by_hand)


def holding(conurbations, code: str):
    """The row of the conurbation with ``code`` among its members, or None."""
    table = getattr(conurbations, "table", conurbations)
    rows = table[table["members"].str.split(";").map(lambda m: code in m)]
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


def side_by_side(analysis: KentAnalysis, areas) -> list[str]:
    """One line per merge: Tunbridge Wells's conurbation, London in it, the largest."""
    merges = {
        "naive (0.1, no hub)": analysis.naive,
        "London a hub by hand": analysis.by_hand,
        "default (cohesion)": analysis.result.merged,
    }
    lines = [f"  {'merge':<24}{'T. Wells with':>14}{'London in':>11}{'largest':>9}  hubs"]
    for label, merged in merges.items():
        row = holding(merged, real.TUNBRIDGE_WELLS)
        members = row["members"].split(";") if row is not None else []
        hubs = ", ".join(areas.loc[merged.hubs, "name"]) or "-"
        lines.append(
            f"  {label:<24}{len(members):>14}{'yes' if real.LONDON in members else 'no':>11}"
            f"{int(merged.table['n_members'].max()):>9}  {hubs}"
        )
    return lines


def link_lines(result: gc.RunResult) -> list[str]:
    """What the links table says about each of Tunbridge Wells's links."""
    links = result.links
    own = links[(links["from"] == real.TUNBRIDGE_WELLS) | (links["to"] == real.TUNBRIDGE_WELLS)]
    lines = []
    for _, link in own.iterrows():
        other = link["to_name"] if link["from"] == real.TUNBRIDGE_WELLS else link["from_name"]
        merged = "merged" if link["conurbation"] else "not merged"
        lines += real.paragraph(
            f"{other}: {link['strength']:.2f}, {merged}. {link['why']}.", "  ", "      "
        )
    return lines


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
        *real.paragraph(real.WEIGHTING_NOTE),
        *real.paragraph(real.COMMUTING_NOTE),
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
        *side_by_side(analysis, areas),
        *_merge_text(
            "1. Naive (no hub)", holding(analysis.naive, core_codes[0]), areas, core_codes
        ),
        *real.paragraph(
            f"Why: London is a cluster in {london_groups} and touches {n_neighbours} TTWAs, so "
            "almost every cluster around it shares a group with it, and one shared group is "
            "enough to chain them all into one South-East blob.",
            "     ",
        ),
        *_merge_text(
            "2. London named a hub by hand",
            holding(analysis.by_hand, core_codes[0]),
            areas,
            core_codes,
        ),
        *real.paragraph(
            "London stays a cluster on its own, but the rest still chain through shared "
            "groups: publishing and content clusters are dense across the South East.",
            "     ",
        ),
        *_merge_text(
            "3. Default (links scored, cohesion rule, hubs found)",
            holding(result.merged, core_codes[0]),
            areas,
            core_codes,
        ),
        *real.paragraph(
            "No hub named: "
            + (", ".join(areas.loc[result.merged.hubs, "name"]) or "none")
            + " found from the links (each alone ties blocs not otherwise tied). One weak link "
            "cannot join two blocs, and every member is within two strong links of every other.",
            "     ",
        ),
        "",
        "Tunbridge Wells's links (the links table: strength, merged, why)",
        *link_lines(result),
        "",
        "All conurbations (default)",
        *real.conurbation_lines(result.merged, areas),
    ]
    return "\n".join(lines)


def kent_map(result: gc.RunResult, conurbations, title: str):
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

    # the Kent zoom as map_focus.png and in the report; map.png stays the whole map
    view = real.codes_by_name(analysis.result.areas, VIEW)
    paths = analysis.result.write(out, overwrite=True, focus=view)
    for key, merged in (
        ("naive_conurbations", analysis.naive),
        ("hub_conurbations", analysis.by_hand),
    ):
        paths[key] = out / f"{key}.gpkg"
        merged.table.to_file(paths[key], layer="conurbations", engine="pyogrio")
    for key, conurbations, title in (
        (
            "kent_map",
            analysis.result.conurbations,
            TITLE + "\nDefault merge (cohesion, hubs found)",
        ),
        ("kent_map_naive", analysis.naive.table, TITLE + "\nNaive merge, no hub"),
    ):
        figure = kent_map(analysis.result, conurbations, title)
        paths[key] = out / f"{key}.png"
        figure.savefig(paths[key], dpi=150, bbox_inches="tight")
    print("\nWritten (the default run):")
    print("\n".join(real.written_lines(paths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
