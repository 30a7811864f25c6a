"""Keyword-only options, with one release of grace for positional callers.

Version 0.1 took the options of ``read_counts``, ``crosswalk`` and the other
readers positionally. From 0.2 they are keyword-only; :func:`options_were_positional`
lets the old calls keep working until 0.3, with a DeprecationWarning that says
which keywords to use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ._warn import warn_user


def options_were_positional(*old_order: str) -> Callable:
    """Accept the options ``old_order`` positionally after the data arguments, with a warning.

    The decorated function declares them keyword-only; a call that passes more
    positional arguments than the function's positional parameters has the
    extra ones mapped onto ``old_order``, in order.
    """

    def decorate(function: Callable) -> Callable:
        code = function.__code__
        n_positional = code.co_argcount

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if len(args) > n_positional:
                extra = args[n_positional:]
                if len(extra) > len(old_order):
                    raise TypeError(
                        f"{function.__name__}() takes at most "
                        f"{n_positional + len(old_order)} positional arguments"
                    )
                names = old_order[: len(extra)]
                twice = [n for n in names if n in kwargs]
                if twice:
                    raise TypeError(f"{function.__name__}() got multiple values for {twice}")
                warn_user(
                    f"passing {', '.join(names)} to {function.__name__}() by position is "
                    "deprecated and will be removed in 0.3; pass "
                    + ", ".join(f"{n}=..." for n in names)
                    + " by keyword",
                    DeprecationWarning,
                )
                kwargs.update(zip(names, extra, strict=True))
                args = args[:n_positional]
            return function(*args, **kwargs)

        return wrapper

    return decorate
