"""Creative clusters on local authority districts: the same analysis on other polygons.

geoclusters works on any polygons with counts, not only Travel to Work
Areas. This script runs the analysis of ``uk_overview.py`` directly on the
380 local authority districts of Great Britain (2014 codes), where the
business counts are published, so no crosswalk is needed.

Local authorities are administrative units: a city's creative economy is
often split between a core authority and its neighbours, and one large rural
authority can hold several labour markets. TTWAs are built from commuting
flows to be self-contained labour markets, so the two maps are expected to
differ: clusters and conurbations here are not the TTWA ones.

The 2015 counts are the published local-authority business counts (rounded
to 5); the 2010 counts are back-cast from published growth rates, an
approximation (see ``_realdata.py``).

Run it::

    python examples/local_authorities.py [--out DIR]

It prints a short summary and writes ``areas.gpkg``, ``clusters.csv``,
``conurbations.gpkg``, ``summary.csv``, ``provenance.json``, ``map.png``,
``lisa.png``, ``map.html`` and ``report.html``.
"""

from __future__ import annotations

import _realdata as real

import geoclusters as gc

NAME = "local_authorities"
TITLE = "Creative clusters in Great Britain (local authorities, 2010 back-cast)"
NOTE = (
    "Local authority districts (2014) as published; 2015 business counts are the published "
    "ones, 2010 counts are back-cast from published growth rates, an APPROXIMATION. No "
    "crosswalk, so no weighting: the counts are each authority's own."
)


def analyse(**options) -> gc.RunResult:
    """The 380 GB local authorities with their own counts, 199 permutations for LISA."""
    options = {
        "groups": real.CREATIVE_GROUPS,
        "periods": ["2010", "2015"],
        "permutations": 199,
        "title": TITLE,
        "notes": (NOTE,),
        **options,
    }
    return gc.run(real.local_authorities(), real.local_authority_counts(), **options)


def summary_text(result: gc.RunResult) -> str:
    """What a planner reads: the polygons, the typology, clusters and conurbations, caveats."""
    areas = result.areas
    repaired = len(real.local_authorities().attrs.get("repaired", []))
    islands = result.graph_report.islands
    lines = [
        TITLE,
        "=" * len(TITLE),
        *real.paragraph(NOTE),
        *real.paragraph(
            f"Areas: {len(areas)} local authority districts of Great Britain (2014 codes), read "
            f"from TopoJSON; {repaired} polygons with self-intersections from the simplified "
            "boundaries were repaired with make_valid. The counts are by local authority, so "
            "no crosswalk is needed."
        ),
        *real.paragraph(
            f"{len(islands)} authorities have no neighbour on this map and can be clusters but "
            "never join a conurbation: "
            + ", ".join(f"{areas.loc[c, 'name']}" for c in islands)
            + "."
        ),
        *real.paragraph(
            "Local authority boundaries split functional economic areas differently from "
            "TTWAs: a city and its commuter belt are several authorities here but one TTWA, "
            "so the clusters and conurbations below are not the TTWA ones (compare with "
            "uk_overview.py)."
        ),
        "",
        "Cluster types by nation (number of local authorities)",
        *("  " + line for line in result.summary.to_string().splitlines()),
        "",
        "Clusters",
        *real.clusters_by_type(areas),
        "",
        "Conurbations: neighbouring clusters sharing a sector group",
        *real.conurbation_lines(result.merged, areas),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run, print the summary and write the outputs; returns the exit status."""
    return real.run_script(argv, NAME, __doc__, analyse, summary_text)


if __name__ == "__main__":
    raise SystemExit(main())
