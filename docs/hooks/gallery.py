"""MkDocs hook: the gallery's pictures, made while the site builds.

``on_files`` runs :func:`geoclusters.run` on the synthetic demo region with its
defaults (what ``geoclusters demo`` does), writes its outputs into a temporary
folder and adds every picture, the interactive map (made self-contained) and
the report to the site under ``gallery/demo/``. When the worked examples have
been run beforehand (``python examples/<script>.py`` writes
``examples-output/<script>/``), their pictures are added under
``gallery/<script>/`` too. Nothing is committed: the pictures are made anew.
``on_page_markdown`` then writes one figure per picture in place of the
``<!-- gallery -->`` marker of ``gallery.md``.

Set ``GEOCLUSTERS_DOCS_GALLERY=0`` to skip the demo run while editing other pages.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.gallery")

PAGE = "gallery.md"
MARKER = "<!-- gallery -->"
PICTURES = (".png", ".svg")
# what each output of a run shows; outputs not listed are captioned by their file name
CAPTIONS = {
    "map": "Cluster typology: high concentration, high growth or both, with conurbations outlined",
    "lisa": "Local Moran cluster maps (High-High, Low-Low, High-Low, Low-High), one per group",
    "map_focus": "Detail of the focus areas at a larger scale, areas and conurbations named",
    "kent_map": "Kent and Sussex, with London kept out of merges as a hub",
    "kent_map_naive": "Kent and Sussex, naive merge: London absorbs its neighbours",
}

_sections: list[tuple[str, str, list[str]]] = []  # (title, note, site paths)


def _add(files, config, src_uri: str, content: bytes) -> None:
    files.append(File.generated(config, src_uri, content=content))


def _demo(files, config) -> list[str]:
    root = Path(config.config_file_path).parent
    sys.path.insert(0, str(root / "src"))
    import matplotlib

    matplotlib.use("Agg")
    import geoclusters as gc
    from geoclusters._offline import inline_assets

    started = time.perf_counter()
    demo = gc.datasets.demo_region(seed=0)
    result = gc.run(demo.areas, demo.counts)
    added = []
    with tempfile.TemporaryDirectory() as tmp:
        written = result.write(Path(tmp))
        # the typology first, then the other pictures in name order
        for path in sorted(Path(tmp).iterdir(), key=lambda p: (p.stem != "map", p.name)):
            if path.suffix in PICTURES:
                _add(files, config, f"gallery/demo/{path.name}", path.read_bytes())
                added.append(f"gallery/demo/{path.name}")
        for name in ("interactive_map", "report"):
            if name in written:
                page = Path(written[name]).read_text(encoding="utf-8")
                if name == "interactive_map":
                    # self-contained whatever version of the map wrote it
                    page = inline_assets(page, unknown="warn")
                _add(files, config, f"gallery/demo/{Path(written[name]).name}", page.encode())
    log.info("gallery: demo run and outputs in %.1f s", time.perf_counter() - started)
    return added


def on_files(files, config):
    _sections.clear()
    if files.get_file_from_path(PAGE) is None:
        return files
    if os.environ.get("GEOCLUSTERS_DOCS_GALLERY", "1") != "0":
        _sections.append(
            (
                "Synthetic demo region",
                "`geoclusters demo` with its defaults: made while this site was built.",
                _demo(files, config),
            )
        )
    examples = Path(config.config_file_path).parent / "examples-output"
    for folder in sorted(p for p in examples.glob("*") if p.is_dir()):
        pictures = sorted(p for p in folder.iterdir() if p.suffix in PICTURES)
        for path in pictures:
            _add(files, config, f"gallery/{folder.name}/{path.name}", path.read_bytes())
        if pictures:
            _sections.append(
                (
                    f"Example: {folder.name.replace('_', ' ')}",
                    f"`python examples/{folder.name}.py`, run before this build.",
                    [f"gallery/{folder.name}/{p.name}" for p in pictures],
                )
            )
    return files


def _figures(files, page) -> str:
    if not _sections:
        return (
            "!!! note\n    No pictures in this build: it was made with "
            "`GEOCLUSTERS_DOCS_GALLERY=0` and without `examples-output/`.\n"
        )
    parts = []
    for title, note, paths in _sections:
        parts += [f"## {title}", "", note, ""]
        for src in paths:
            stem = Path(src).stem
            caption = CAPTIONS.get(stem, stem.replace("_", " "))
            parts += [
                '<figure markdown="span">',
                f"  ![{caption}]({src}){{ loading=lazy }}",
                f"  <figcaption>{caption}</figcaption>",
                "</figure>",
                "",
            ]
        folder = str(Path(paths[0]).parent) if paths else ""
        if folder == "gallery/demo":
            interactive = files.get_file_from_path(f"{folder}/map.html")
            if interactive is not None:
                # raw HTML: MkDocs does not rewrite this address, so it is made relative here
                src = get_relative_url(interactive.url, page.url)
                parts += [
                    f'<iframe src="{src}" title="Interactive map of the demo" loading="lazy" '
                    'style="width:100%;height:520px;border:1px solid #ccc"></iframe>',
                    "",
                ]
            for name, what in (
                ("map.html", "the interactive map"),
                ("report.html", "the report"),
            ):
                if files.get_file_from_path(f"{folder}/{name}") is not None:
                    parts.append(f"- [Open {what}]({folder}/{name}): one file, works offline")
            parts.append("")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        log.warning("%s has no %s marker for the pictures", PAGE, MARKER)
        return markdown
    return markdown.replace(MARKER, _figures(files, page))
