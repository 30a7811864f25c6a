"""MkDocs hook: show the Sphinx roles of the docstrings as plain code.

The numpydoc docstrings cross-reference with Sphinx roles (``:func:`moran```),
which mkdocstrings passes through as text, so ``:func:`` would be printed in
front of the name. This hook keeps the name, as code, and drops the role; with
a leading ``~`` only the last component is shown, as Sphinx does.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):<code>(~?)([^<]+)</code>")


def _plain(match: re.Match) -> str:
    short, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if short else target}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return _ROLE.sub(_plain, html)
