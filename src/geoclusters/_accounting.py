"""Accounting of inputs: what came in, what went out, and what was set aside and why.

The readers (:func:`geoclusters.read_counts`, :func:`geoclusters.read_areas`,
:func:`geoclusters.read_lookup`) and :func:`geoclusters.crosswalk` each add one
:class:`InputAccount` to a :class:`Ledger` passed as ``ledger=``. A run keeps
one ledger, prints its lines and writes :meth:`Ledger.to_dict` into its
provenance. Nothing is set aside unless the caller asked for it (for example
``unmatched="warn"`` in a crosswalk, or ``empty="drop"`` for areas), and every
repair made on the way in (a decoding, stripped spaces, dropped Z values) is
listed.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

_SHOWN = 10


@dataclass(frozen=True)
class SetAside:
    """Rows or areas kept out of a result, with the reason.

    Attributes
    ----------
    reason : str
        Why, in a few words (``"not in the lookup"``).
    rows : tuple
        Their labels: area codes, or row positions in the input.
    """

    reason: str
    rows: tuple = ()

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class InputAccount:
    """How many rows (or areas) one input step took in and gave out.

    Attributes
    ----------
    what : str
        The step: ``"counts"``, ``"areas"``, ``"lookup"`` or ``"crosswalk"``.
    source : str
        The file read, or ``"<DataFrame>"`` for a table passed in memory.
    rows_in, rows_out : int
        Rows (for areas: areas) read and handed on.
    unit : str
        ``"rows"`` or ``"areas"``.
    set_aside : tuple of SetAside
        What was kept out, by reason; empty unless the caller asked for it.
    repairs : tuple of str
        Documented repairs made on the way (one sentence each).
    encoding, delimiter : str or None
        For text files: the encoding used and the delimiter found.

    Examples
    --------
    >>> account = InputAccount("counts", "c.csv", 12, 10,
    ...                        set_aside=(SetAside("not in the lookup", ("A", "B")),))
    >>> account.line()
    'counts (c.csv): 12 rows in, 10 out, 2 set aside (2 not in the lookup)'
    """

    what: str
    source: str
    rows_in: int
    rows_out: int
    unit: str = "rows"
    set_aside: tuple[SetAside, ...] = ()
    repairs: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def n_set_aside(self) -> int:
        return sum(s.count for s in self.set_aside)

    def line(self) -> str:
        """One line for a command-line summary."""
        text = f"{self.what} ({self.source}): {self.rows_in} {self.unit} in, {self.rows_out} out"
        text += f", {self.n_set_aside} set aside"
        if self.set_aside:
            text += " (" + "; ".join(f"{s.count} {s.reason}" for s in self.set_aside) + ")"
        if self.repairs:
            text += "; repaired: " + "; ".join(self.repairs)
        return text

    def to_dict(self) -> dict:
        """A JSON-ready record (the first rows of each set-aside group are listed)."""
        record = asdict(self)
        record["set_aside"] = [
            {"reason": s.reason, "count": s.count, "rows": [str(r) for r in s.rows[:_SHOWN]]}
            for s in self.set_aside
        ]
        record["repairs"] = list(self.repairs)
        return record

    def __repr__(self) -> str:
        return f"InputAccount({self.line()})"

    def _repr_html_(self) -> str:
        return _table([self])


@dataclass
class Ledger:
    """Collects the :class:`InputAccount` of every input step of one run.

    Examples
    --------
    >>> import pandas as pd
    >>> import geoclusters as gc
    >>> ledger = Ledger()
    >>> table = pd.DataFrame({"area": ["A"], "sector": ["film"], "period": ["2015"],
    ...                       "measure": ["businesses"], "value": [3]})
    >>> _ = gc.read_counts(table, ledger=ledger)
    >>> ledger.lines()
    ['counts (<DataFrame>): 1 rows in, 1 out, 0 set aside']
    """

    accounts: list[InputAccount] = field(default_factory=list)

    def add(self, account: InputAccount) -> InputAccount:
        self.accounts.append(account)
        return account

    def lines(self) -> list[str]:
        return [a.line() for a in self.accounts]

    def to_dict(self) -> list[dict]:
        return [a.to_dict() for a in self.accounts]

    def __iter__(self) -> Iterator[InputAccount]:
        return iter(self.accounts)

    def __len__(self) -> int:
        return len(self.accounts)

    def __repr__(self) -> str:
        return "Ledger(\n  " + "\n  ".join(self.lines()) + "\n)" if self else "Ledger()"

    def _repr_html_(self) -> str:
        return _table(self.accounts)


def record(ledger: Ledger | None, account: InputAccount) -> None:
    """Add ``account`` to ``ledger`` when the caller gave one."""
    if ledger is not None:
        ledger.add(account)


def _table(accounts) -> str:
    head = "<tr><th>input</th><th>source</th><th>in</th><th>out</th><th>set aside</th></tr>"
    rows = "".join(
        f"<tr><td>{html.escape(a.what)}</td><td>{html.escape(a.source)}</td>"
        f"<td>{a.rows_in}</td><td>{a.rows_out}</td><td>{a.n_set_aside}</td></tr>"
        for a in accounts
    )
    return f"<table>{head}{rows}</table>"
