"""Whether a permutation test can reach significance at all, and how many permutations it needs.

A conditional permutation test with ``P`` permutations gives pseudo p-values
no smaller than ``1 / (P + 1)`` (twice that for a two-sided test). After a
multiple-testing correction over ``m`` tests that floor may already be too
high: Bonferroni rejects only ``p <= alpha / m``; Benjamini-Hochberg rejects
the ``k`` smallest p-values when ``p_(k) <= k * alpha / m``, so with every
p-value at the floor it needs ``k >= m * p_min / alpha`` of them there. With
199 permutations, FDR at 0.05 over 218 areas needs 22 areas at the floor
(1 in 200 simulations as extreme) before any is significant — on real data
often none is, and the map is grey with nothing saying why.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

#: Share of the tests that must sit at the p-value floor before we call significance
#: "nearly unreachable": a real pattern rarely puts more than two or three percent there
#: (on the UK TTWAs, two-sided FDR with 999 permutations needs 9 of 213 areas at the
#: floor, 4%, and leaves the content group with none significant; 1,999 find 10).
NEARLY = 0.03

#: The automatic increase in :func:`geoclusters.run` stops here: 9,999 permutations
#: give a floor of 1e-4, enough for FDR over 1,000 tests at 5% (and Bonferroni over 500).
MAX_PERMUTATIONS = 9999

_ROUND = (99, 199, 499, 999, 1999, 4999, 9999)


@dataclass(frozen=True)
class Reach:
    """How reachable significance is for one permutation test over many areas.

    Attributes
    ----------
    p_min : float
        The smallest pseudo p-value the permutations can give.
    needed : int or None
        How many tests must reach ``p_min`` before any is significant after the
        correction (1 with no correction or when one suffices); None when no
        number of tests can (Bonferroni with ``alpha / m < p_min``, or FDR
        needing more tests than there are).
    tests : int
    share : float
        ``needed / tests`` (1.0 when unreachable).
    """

    p_min: float
    needed: int | None
    tests: int
    share: float

    @property
    def reachable(self) -> bool:
        return self.needed is not None

    @property
    def comfortable(self) -> bool:
        """Significance does not hinge on many areas sitting at the floor."""
        return self.needed is not None and (self.needed <= 1 or self.share < NEARLY)


def p_floor(permutations: int, alternative: str | None = None) -> float:
    """The smallest pseudo p-value of ``permutations`` conditional permutations.

    ``(0 + 1) / (P + 1)`` for a one-sided or folded test; a two-sided test
    doubles it. Zero permutations (analytic p-values) have no floor.

    Examples
    --------
    >>> p_floor(199), p_floor(199, "two-sided")
    (0.005, 0.01)
    """
    if permutations <= 0:
        return 0.0
    base = 1.0 / (permutations + 1)
    return min(1.0, 2 * base) if alternative == "two-sided" else base


def reach(
    permutations: int,
    tests: int,
    *,
    correction: str | None = "fdr",
    alpha: float = 0.05,
    alternative: str | None = None,
) -> Reach:
    """How many of ``tests`` must sit at the p-value floor for any to be significant.

    Examples
    --------
    >>> r = reach(199, 218, correction="fdr")
    >>> r.needed, r.comfortable
    (22, False)
    >>> reach(999, 218, correction="fdr").needed
    5
    >>> reach(199, 218, correction="bonferroni").reachable
    False
    """
    p_min = p_floor(permutations, alternative)
    tests = max(int(tests), 1)
    # a tiny tolerance so that k * alpha / m == p_min counts as passing, as in adjust_pvalues
    eps = 1e-12
    if correction is None or p_min == 0.0:
        needed: int | None = 1 if p_min <= alpha + eps else None
    elif correction == "bonferroni":
        needed = 1 if p_min <= alpha / tests + eps else None
    else:
        k = max(1, math.ceil(tests * p_min / alpha - eps))
        needed = k if k <= tests else None
    share = needed / tests if needed is not None else 1.0
    return Reach(p_min=p_min, needed=needed, tests=tests, share=share)


def permutations_needed(
    tests: int,
    *,
    correction: str | None = "fdr",
    alpha: float = 0.05,
    alternative: str | None = None,
    maximum: int = MAX_PERMUTATIONS,
) -> int:
    """The smallest round permutation count with comfortable significance, at most ``maximum``.

    Round counts (99, 199, 499, 999, 1999, 4999, 9999) keep the p-values
    readable (multiples of 1 / (P + 1)).

    Examples
    --------
    >>> permutations_needed(218, correction="fdr")
    999
    >>> permutations_needed(218, correction="bonferroni")  # 1/5000 <= 0.05/218
    4999
    """
    for count in _ROUND:
        if count > maximum:
            break
        if reach(
            count, tests, correction=correction, alpha=alpha, alternative=alternative
        ).comfortable:
            return count
    return maximum


def message(
    what: str, permutations: int, result: Reach, correction: str | None, alpha: float
) -> str | None:
    """A one-line explanation when significance is unreachable or nearly so, else None."""
    if result.comfortable:
        return None
    where = f"{what}: " if what else ""
    floor = f"{permutations} permutations give p-values no smaller than {result.p_min:.3g}"
    method = {"fdr": "FDR (Benjamini-Hochberg)", "bonferroni": "Bonferroni"}.get(
        str(correction), "no correction"
    )
    if not result.reachable:
        return (
            f"{where}no area can be significant: {floor}, and {method} at alpha {alpha} over "
            f"{result.tests} tests needs less. Use more permutations (e.g. permutations="
            f"{permutations_needed(result.tests, correction=correction, alpha=alpha)}) or "
            "correction='fdr'."
        )
    return (
        f"{where}significance is nearly unreachable: {floor}, so {method} at alpha {alpha} over "
        f"{result.tests} tests finds nothing unless {result.needed} areas "
        f"({result.share:.0%}) all reach that floor. Use more permutations (e.g. permutations="
        f"{permutations_needed(result.tests, correction=correction, alpha=alpha)})."
    )


def warn_if_unreachable(
    permutations: int,
    tests: int,
    *,
    correction: str | None = "fdr",
    alpha: float = 0.05,
    alternative: str | None = None,
    what: str = "",
    stacklevel: int = 3,
) -> Reach:
    """Warn (``UserWarning``) when significance is unreachable or nearly so; return the reach."""
    result = reach(permutations, tests, correction=correction, alpha=alpha, alternative=alternative)
    text = message(what, permutations, result, correction, alpha) if permutations > 0 else None
    if text:
        warnings.warn(text, UserWarning, stacklevel=stacklevel)
    return result
