"""Self-contained Leaflet pages: the scripts and styles folium loads from CDNs, inlined.

A folium map saved as HTML loads Leaflet, jQuery, Bootstrap, Font Awesome and
the awesome-markers plugin from public CDNs; without a network (a secured
office, a train) the page shows the title and legend but no polygon. This
module swaps every ``<script src>`` and stylesheet ``<link>`` that folium
0.20 and geopandas' ``explore`` emit for the content of the same file,
vendored under ``geoclusters/static`` (see the README there for versions,
sources and licences). Fonts and images that the vendored CSS refers to
become ``data:`` URIs; font formats that are not vendored (the woff2 file is)
are dropped from the ``@font-face`` lists, which browsers then skip.

Basemap tiles stay a web resource: Leaflet keeps tiles that fail to load
hidden, so offline the map shows its polygons on a plain background.
"""

from __future__ import annotations

import base64
import re
import warnings
from collections.abc import Mapping
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .errors import GeoclustersError, check_policy

if TYPE_CHECKING:
    import folium

__all__ = ["ASSETS", "OfflineAssetError", "external_references", "inline_assets", "save_offline"]

#: URL that folium (or geopandas' ``explore``) emits -> vendored file under ``static/``.
ASSETS: Mapping[str, str] = {
    # folium.folium._default_js
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet-1.9.3/leaflet.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap-5.2.2/js/bootstrap.bundle.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.js": "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.js",
    # folium.folium._default_css
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet-1.9.3/leaflet.css",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap-5.2.2/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "glyphicons-3.3.7/css/bootstrap.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome-free-6.2.0/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.css": "leaflet.awesome-markers-2.0.2/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": "folium-0.20.0/leaflet.awesome.rotate.css",
    # the draggable categorical legend of geopandas.explore, which maps._legend copies
    "https://code.jquery.com/ui/1.12.1/jquery-ui.js": "jquery-ui-1.12.1/jquery-ui.min.js",
    # branca.colormap: continuous legends
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3-3.5.5/d3.min.js",
}

_MIME = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".gif": "image/gif",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
}

_SCRIPT = re.compile(
    r"<script\b(?P<attrs>[^>]*?)\bsrc\s*=\s*(?P<q>[\"'])(?P<url>[^\"']+)(?P=q)(?P<rest>[^>]*)>"
    r"\s*</script\s*>",
    re.IGNORECASE,
)
_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*([\"'])([^\"']+)\1", re.IGNORECASE)
_STYLESHEET = re.compile(r"\brel\s*=\s*([\"'])?[^\"'>]*stylesheet", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*([\"']?)([^\"')]+)\1\s*\)")
_FONT_SRC = re.compile(r"src\s*:\s*([^;}]+)(;?)")
_SOURCE_MAP = re.compile(r"^\s*(?://|/\*)# sourceMappingURL=.*$", re.MULTILINE)
_REMOTE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
# Leaflet's own background is a mid grey; offline, with no tiles, a pale ground reads better.
_BACKGROUND = "<style>.leaflet-container{background:#f4f3ef;}</style>"


class OfflineAssetError(GeoclustersError):
    """A page refers to a web script or stylesheet that geoclusters does not ship."""


def _static() -> Path:
    return Path(str(resources.files("geoclusters") / "static"))


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _resolve(css_file: Path, ref: str) -> Path | None:
    """The vendored file a relative ``url()`` in ``css_file`` names, if it is shipped."""
    if _REMOTE.match(ref) or ref.startswith(("data:", "#", "about:")):
        return None
    # "font.eot?#iefix" and "font.svg#name" name the same file
    clean = ref.split("?", 1)[0].split("#", 1)[0]
    root = _static().resolve()
    target = (css_file.parent / PurePosixPath(clean)).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target


def _keep_ref(ref: str) -> bool:
    return ref.startswith(("data:", "#", "about:"))


def _font_sources(css: str, css_file: Path) -> str:
    """Keep the ``src`` entries of each ``@font-face`` whose file is vendored, as data URIs."""

    def one(match: re.Match) -> str:
        entries = re.split(r",(?![^(]*\))", match.group(1))
        kept = []
        for entry in entries:
            url = _CSS_URL.search(entry)
            if url is None:
                # local("Font Name") needs nothing from the web
                kept.append(entry.strip())
                continue
            ref = url.group(2)
            if _keep_ref(ref):
                kept.append(entry.strip())
                continue
            path = _resolve(css_file, ref)
            if path is not None:
                kept.append(entry.replace(url.group(0), f'url("{_data_uri(path)}")').strip())
        if not kept:
            return ""
        return f"src:{','.join(kept)}{match.group(2)}"

    return re.sub(
        r"@font-face\s*{[^}]*}",
        lambda block: _FONT_SRC.sub(one, block.group(0)),
        css,
    )


def _inline_css(css_file: Path) -> str:
    css = _font_sources(css_file.read_text(encoding="utf-8"), css_file)

    def one(match: re.Match) -> str:
        ref = match.group(2)
        if _keep_ref(ref):
            return match.group(0)
        path = _resolve(css_file, ref)
        # an image the vendored CSS names but geoclusters does not ship is drawn as nothing
        return f'url("{_data_uri(path)}")' if path is not None else "none"

    css = _CSS_URL.sub(one, css)
    return _SOURCE_MAP.sub("", css).replace("</style", "<\\/style")


def _inline_js(js_file: Path) -> str:
    js = _SOURCE_MAP.sub("", js_file.read_text(encoding="utf-8"))
    # "</script" inside a string would end the inline element early
    return js.replace("</script", "<\\/script")


def external_references(html: str) -> list[str]:
    """The web addresses of the scripts and stylesheets ``html`` loads.

    Parameters
    ----------
    html : str
        An HTML page.

    Returns
    -------
    list of str
        Each ``<script src>`` and stylesheet ``<link href>`` that starts with
        ``http://``, ``https://`` or ``//``, in page order.

    Examples
    --------
    >>> external_references('<script src="https://x.org/a.js"></script><p>map</p>')
    ['https://x.org/a.js']
    """
    found = []
    for match in re.finditer(rf"{_SCRIPT.pattern}|{_LINK.pattern}", html, re.IGNORECASE):
        tag = match.group(0)
        if tag.lower().startswith("<script"):
            url = _SCRIPT.match(tag).group("url")
        elif _STYLESHEET.search(tag) and (href := _HREF.search(tag)):
            url = href.group(2)
        else:
            continue
        if _REMOTE.match(url):
            found.append(url)
    return found


def inline_assets(html: str, *, unknown: str = "raise") -> str:
    """Replace the CDN scripts and stylesheets of a folium page with their content.

    Parameters
    ----------
    html : str
        A page rendered by folium (``folium.Map.get_root().render()``).
    unknown : {"raise", "warn", "ignore"}, default "raise"
        What to do with a web script or stylesheet that geoclusters does not
        ship (a folium plugin, another folium version): raise
        :class:`OfflineAssetError`, warn and leave the reference, or leave it
        silently.

    Returns
    -------
    str
        The page with every known asset inlined (``<script>`` / ``<style>``)
        and a pale map background for when the tiles cannot load.

    Raises
    ------
    OfflineAssetError
        With ``unknown="raise"``, naming every address that would still need
        the web.

    Examples
    --------
    >>> page = '<head><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script></head>'
    >>> out = inline_assets(page)
    >>> external_references(out), "jQuery" in out
    ([], True)
    """
    unknown = check_policy("unknown", unknown)
    root = _static()
    missing: list[str] = []

    def script(match: re.Match) -> str:
        url = match.group("url")
        if url not in ASSETS:
            if _REMOTE.match(url):
                missing.append(url)
            return match.group(0)
        return f"<script>{_inline_js(root / ASSETS[url])}</script>"

    def link(match: re.Match) -> str:
        tag = match.group(0)
        href = _HREF.search(tag)
        if href is None or not _STYLESHEET.search(tag):
            return tag
        url = href.group(2)
        if url not in ASSETS:
            if _REMOTE.match(url):
                missing.append(url)
            return tag
        return f"<style>{_inline_css(root / ASSETS[url])}</style>"

    out = _LINK.sub(link, _SCRIPT.sub(script, html))
    if missing:
        listed = ", ".join(dict.fromkeys(missing))
        message = (
            f"the map still loads {listed} from the web, so it will not work offline; "
            "geoclusters ships the files folium 0.20 uses (see geoclusters/static/README.md). "
            "Remove the plugin that adds them, or add the file to geoclusters/static and "
            "geoclusters._offline.ASSETS."
        )
        if unknown == "raise":
            raise OfflineAssetError(message)
        if unknown == "warn":
            warnings.warn(message, UserWarning, stacklevel=2)
    # after the inlined leaflet.css, whose grey it overrides
    end = re.search(r"</head\s*>", out, re.IGNORECASE)
    if end is not None and _BACKGROUND not in out:
        out = out[: end.start()] + _BACKGROUND + out[end.start() :]
    return out


def save_offline(
    fmap: folium.Map, path: str | Path, *, tiles: bool = True, unknown: str = "raise"
) -> Path:
    """Save a folium map as one HTML file that works without a network.

    Parameters
    ----------
    fmap : folium.Map
        The map; it is not changed.
    path : str or Path
        Where to write the page.
    tiles : bool, default True
        Keep the basemap tile layers. They still come from the web: online
        they show, offline they stay blank and the polygons, popups and
        legend work as usual. ``False`` leaves them out for a plain background.
    unknown : {"raise", "warn", "ignore"}, default "raise"
        See :func:`inline_assets`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import folium, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "map.html"
    >>> _ = save_offline(folium.Map(location=[51.5, 0.1], zoom_start=9), out, tiles=False)
    >>> external_references(out.read_text(encoding="utf-8"))
    []
    """
    from folium.raster_layers import TileLayer

    root = fmap.get_root()
    original = list(fmap._children.items())
    if not tiles:
        for key, child in original:
            if isinstance(child, TileLayer):
                del fmap._children[key]
                # an earlier render left the layer's code in the page, under the layer's name
                for part in (root.header, root.html, root.script):
                    part._children.pop(child.get_name(), None)
    try:
        html = root.render()
    finally:
        # the caller's map keeps its layers, in their order
        fmap._children.clear()
        fmap._children.update(original)
    path = Path(path)
    path.write_text(inline_assets(html, unknown=unknown), encoding="utf-8")
    return path
