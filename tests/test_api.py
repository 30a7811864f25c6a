"""The public API: every exported name resolves, and importing stays light."""

import subprocess
import sys

import geoclusters as gc


def test_every_public_name_resolves():
    unresolved = [name for name in gc.__all__ if getattr(gc, name, None) is None]
    assert unresolved == []
    assert callable(gc.crosswalk) and callable(gc.read_areas) and callable(gc.run)
    assert gc.TOTAL == "_total"


def test_import_does_not_pull_in_plotting_or_statistics():
    code = (
        "import sys, geoclusters; "
        "print(sorted(m for m in ('matplotlib', 'folium', 'esda', 'libpysal') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
