"""Creative clusters on every UK Travel to Work Area: typology and conurbations.

Runs the Nesta 2016 rule on all 228 TTWAs (2011) with four creative sector
groups of business counts, 2010 -> 2015, types every cluster as high
concentration, high growth or both, and merges neighbouring clusters into
conurbations by the default cohesion rule (links scored by shared groups,
2021 Census commuting and profile likeness; hubs such as London found from
the links, see ``kent_creative_clusters.py``). Northern Ireland's 10 TTWAs are
kept on the map as "no data": the counts cover Great Britain only.

The counts are an APPROXIMATION moved from local-authority business counts
(see ``_realdata.py``), not the tables behind the 2016 report.

Run it::

    python examples/uk_overview.py [--out DIR]

It prints a short summary and writes ``areas.gpkg``, ``clusters.csv``,
``conurbations.gpkg``, ``links.csv``, ``summary.csv``, ``provenance.json``, ``map.png``,
``lisa.png``, ``map.html`` and ``report.html``.
"""

from __future__ import annotations

import _realdata as real

import geoclusters as gc

NAME = "uk_overview"
TITLE = "Creative clusters in the UK (TTWAs, approximate counts, population-proxy weights)"


def analyse(**options) -> gc.RunResult:
    """Every TTWA, Northern Ireland as "no data", default merging, 199 permutations for LISA."""
    options = {
        "groups": real.CREATIVE_GROUPS,
        "periods": ["2010", "2015"],
        "missing_counts": "no data",
        "permutations": 199,
        "title": TITLE,
        "notes": (real.APPROXIMATION_NOTE, real.WEIGHTING_NOTE, real.COMMUTING_NOTE),
        **options,
    }
    return gc.run(real.ttwas(), real.ttwa_counts(), flows=real.ttwa_flows(), **options)


def summary_text(result: gc.RunResult) -> str:
    """What a planner reads: the data, the typology by nation, the clusters and conurbations."""
    areas = result.areas
    no_data = int((areas["cluster_type"] == "no data").sum())
    analysed = len(areas) - no_data
    lines = [
        TITLE,
        "=" * len(TITLE),
        *real.paragraph(real.APPROXIMATION_NOTE),
        *real.paragraph(real.WEIGHTING_NOTE),
        *real.paragraph(real.COMMUTING_NOTE),
        *real.paragraph(
            f"Areas: all {len(areas)} Travel to Work Areas (2011); {analysed} in Great Britain "
            f"analysed, {no_data} in Northern Ireland shown as 'no data' (the counts cover Great "
            "Britain only)."
        ),
        *real.paragraph(real.METHOD_NOTE),
        "",
        "Cluster types by nation (number of TTWAs)",
        *("  " + line for line in result.summary.to_string().splitlines()),
        "",
        "Clusters",
        *real.clusters_by_type(areas),
        "",
        "Conurbations: neighbouring clusters tied by shared groups, commuting and likeness",
        *real.conurbation_lines(result.merged, areas),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run, print the summary and write the outputs; returns the exit status."""
    return real.run_script(argv, NAME, __doc__, analyse, summary_text)


if __name__ == "__main__":
    raise SystemExit(main())
