"""Docstrings written for numpydoc, rendered by mkdocstrings: roles as links, definition lists.

Two parts share this file:

* :class:`SphinxRoles`, a griffe extension (``extensions:`` in ``mkdocs.yml``),
  rewrites each docstring before mkdocstrings renders it. A Sphinx role
  (``:func:`moran```, ``:class:`~geoclusters.stats.LocalResult```) becomes an
  autorefs cross-reference ``[`moran`][geoclusters.stats.moran]``, resolved in
  the scope of the object the docstring belongs to, as Sphinx does; a target
  outside geoclusters (``shapely.make_valid``) stays code. reST definition
  lists (a term, then its indented description, as in a module's
  "Conventions" section) become Markdown definition lists; left as they are,
  Markdown shows the indented paragraphs as code blocks.
* ``on_page_content``, an MkDocs hook, fails the strict build when a role is
  still printed on a page, so a role the extension cannot read is noticed.
"""

from __future__ import annotations

import logging
import re

import griffe

log = logging.getLogger("mkdocs.hooks.sphinx_roles")

_ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|data|attr|exc|obj|const):`(~?)([^`<>]+)`")
# the sections numpydoc parses as "name : type" followed by an indented description
_STRUCTURED = {
    "parameters",
    "other parameters",
    "returns",
    "yields",
    "receives",
    "raises",
    "warns",
    "attributes",
    "methods",
    "see also",
    "examples",
}
_UNDERLINE = re.compile(r"^-{3,}\s*$")
_INDENT = "    "


def _canonical(collection, path: str) -> str | None:
    """``path`` with every alias followed, or None when griffe does not know it."""
    for _ in range(10):
        try:
            obj = collection.get_member(path)
        except (KeyError, ValueError):
            return None
        if not obj.is_alias:
            return obj.path
        path = obj.target_path
    return None


def _target(obj: griffe.Object, name: str) -> str | None:
    """The documented path a role's target names, seen from ``obj``, or None."""
    collection = obj.modules_collection
    candidates = []
    try:
        candidates.append(obj.resolve(name))
    except (griffe.NameResolutionError, KeyError, ValueError):
        pass
    candidates += [name, f"geoclusters.{name}"]
    for candidate in candidates:
        path = _canonical(collection, candidate)
        if path is None:
            continue
        public = all(not part.startswith("_") for part in path.split("."))
        # mkdocstrings shows no attribute without a docstring, so it has no anchor
        shown = (
            not collection.get_member(path).is_attribute or collection.get_member(path).docstring
        )
        return path if path.startswith("geoclusters") and public and shown else None
    return None


def _link_roles(obj: griffe.Object, text: str) -> str:
    def one(match: re.Match) -> str:
        _role, short, name = match.groups()
        shown = name.rsplit(".", 1)[-1] if short else name
        target = _target(obj, name)
        return f"[`{shown}`][{target}]" if target else f"`{shown}`"

    return _ROLE.sub(one, text)


def _definition_lists(text: str) -> str:
    """Turn reST definition lists outside the structured sections into Markdown ones."""
    lines = text.split("\n")
    section = None
    out: list[str] = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _UNDERLINE.match(following) and line.strip():
            section = line.strip().lower()
        previous = out[-1] if out else ""
        is_definition = (
            section not in _STRUCTURED
            and line.startswith(_INDENT)
            and line.strip()
            and previous.strip()
            and not previous.startswith((" ", ":"))
            and not _UNDERLINE.match(previous)
            and (len(out) < 2 or not out[-2].strip() or _UNDERLINE.match(out[-2]))
        )
        # the first indented line under an unindented term opens its description
        out.append(":   " + line[len(_INDENT) :] if is_definition else line)
    return "\n".join(out)


def _comment_docstring(obj: griffe.Object) -> None:
    """Give a module constant documented Sphinx-style (``#:`` lines above it) that docstring."""
    if obj.docstring is not None or not obj.is_attribute or obj.lineno is None:
        return
    source = obj.parent.lines if obj.parent is not None else []
    comment: list[str] = []
    i = obj.lineno - 2
    while 0 <= i < len(source) and source[i].strip().startswith("#:"):
        comment.insert(0, source[i].strip()[2:].strip())
        i -= 1
    if comment:
        template = obj.parent.docstring
        obj.docstring = griffe.Docstring(
            "\n".join(comment),
            parent=obj,
            parser=template.parser if template else None,
            parser_options=template.parser_options if template else None,
        )


def _walk(pkg: griffe.Object):
    stack = [pkg]
    while stack:
        obj = stack.pop()
        yield obj
        stack.extend(m for m in obj.members.values() if not m.is_alias)


class SphinxRoles(griffe.Extension):
    """Rewrite numpydoc docstrings into the Markdown mkdocstrings renders."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.path != "geoclusters":
            return
        # documented first, so that links can tell which targets have a place on a page
        for obj in _walk(pkg):
            _comment_docstring(obj)
        for obj in _walk(pkg):
            if obj.docstring is not None:
                value = _definition_lists(obj.docstring.value)
                obj.docstring.value = _link_roles(obj, value)


def on_page_content(html: str, page, **kwargs) -> str:
    left = sorted(set(re.findall(r":(?:func|class|meth|mod|data|attr|exc|obj|const):", html)))
    if left:
        log.warning("%s still shows Sphinx roles %s", page.file.src_uri, ", ".join(left))
    return html


def on_post_page(output: str, page, config, **kwargs) -> str:
    """The API index links every public name, so a new one cannot go unlisted."""
    if page.file.src_uri != "api/index.md":
        return output
    import sys
    from pathlib import Path

    src = str(Path(config.config_file_path).parent / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import geoclusters

    linked = set(
        re.findall(r'<a class="autorefs autorefs-internal"[^>]*><code>([^<]+)</code></a>', output)
    )
    missing = sorted(n for n in geoclusters.__all__ if not n.startswith("_") and n not in linked)
    if missing:
        log.warning("api/index.md does not link the public names %s", ", ".join(missing))
    return output
