"""geoclusters: industry clusters and conurbations in geography.

The public API is flat: ``geoclusters.read_areas``, ``geoclusters.moran``,
``geoclusters.detect_nesta2016`` and so on. Submodules are imported on first
use, so ``import geoclusters`` stays fast and the plotting extras are only
needed by the functions that draw.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "GeoclustersError": "errors",
    "InputError": "errors",
    "DownloadError": "errors",
    "ReadError": "errors",
    "CRSError": "errors",
    "GeometryError": "errors",
    "CodesError": "errors",
    "CountsError": "errors",
    "ConfigError": "errors",
    "OutputError": "errors",
    "MissingExtraError": "errors",
    # areas and counts
    "read_areas": "areas",
    "validate_areas": "areas",
    "read_counts": "counts",
    "validate_counts": "counts",
    "add_totals": "counts",
    "sum_counts": "counts",
    "TOTAL": "counts",
    # taxonomy and crosswalks
    "taxonomy": "taxonomy",
    "crosswalk": "crosswalks",
    "areal_lookup": "crosswalks",
    "read_lookup": "crosswalks",
    "population_lookup": "crosswalks",
    # measures
    "aggregate_sectors": "measures",
    "period_means": "measures",
    "shares": "measures",
    "location_quotients": "measures",
    "growth": "measures",
    "lq_change": "measures",
    "metrics": "measures",
    "prepare": "measures",
    # graph and statistics
    "contiguity": "graph",
    "knn": "graph",
    "distance_band": "graph",
    "commuting": "graph",
    "components": "graph",
    "graph_report": "graph",
    "moran": "stats",
    "geary": "stats",
    "local_moran": "stats",
    "local_g": "stats",
    "adjust_pvalues": "stats",
    # detection and conurbations
    "detect_nesta2016": "detect",
    "detect_hotspots": "detect",
    "detect_thresholds": "detect",
    "typology": "detect",
    "typology_summary": "detect",
    "merge_conurbations": "conurbations",
    "Detection": "detect",
    "Conurbations": "conurbations",
    "membership": "conurbations",
    "move_flows": "conurbations",
    "read_census_flows": "conurbations",
    "sensitivity": "sensitivity",
    "Sensitivity": "sensitivity",
    "Provenance": "provenance",
    "fingerprint": "provenance",
    # results
    "GraphReport": "graph",
    "GlobalResult": "stats",
    "LocalResult": "stats",
    # maps and report (the "maps" extra)
    "typology_map": "maps",
    "lisa_map": "maps",
    "lisa_maps": "maps",
    "lisa_panel": "maps",
    "moran_scatterplot": "maps",
    "interactive_map": "maps",
    "write_report": "report",
    # whole job
    "run": "pipeline",
    "Config": "pipeline",
    "RunResult": "pipeline",
    "datasets": "datasets",
    "sources": "sources",
    "distributed": "distributed",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover
    from . import datasets, distributed, sources, taxonomy
    from .areas import read_areas, validate_areas
    from .conurbations import (
        Conurbations,
        membership,
        merge_conurbations,
        move_flows,
        read_census_flows,
    )
    from .counts import TOTAL, add_totals, read_counts, sum_counts, validate_counts
    from .crosswalks import areal_lookup, crosswalk, population_lookup, read_lookup
    from .detect import (
        Detection,
        detect_hotspots,
        detect_nesta2016,
        detect_thresholds,
        typology,
        typology_summary,
    )
    from .errors import (
        CodesError,
        ConfigError,
        CountsError,
        CRSError,
        DownloadError,
        GeoclustersError,
        GeometryError,
        InputError,
        MissingExtraError,
        OutputError,
        ReadError,
    )
    from .graph import (
        GraphReport,
        commuting,
        components,
        contiguity,
        distance_band,
        graph_report,
        knn,
    )
    from .maps import (
        interactive_map,
        lisa_map,
        lisa_maps,
        lisa_panel,
        moran_scatterplot,
        typology_map,
    )
    from .measures import (
        aggregate_sectors,
        growth,
        location_quotients,
        lq_change,
        metrics,
        period_means,
        prepare,
        shares,
    )
    from .pipeline import Config, RunResult, run
    from .provenance import Provenance, fingerprint
    from .report import write_report
    from .stats import GlobalResult, LocalResult, adjust_pvalues, geary, local_g, local_moran, moran


def __getattr__(name: str):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'geoclusters' has no attribute {name!r}")
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if module_name == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
