"""The one function that maps a kernel over chunks, here or on a Dask client.

:mod:`geoclusters.graph` and :mod:`geoclusters.stats` cut their work into
chunks and hand it, with a kernel from :mod:`geoclusters._kernels`, to
:func:`map_chunks`. Without a client the chunks run in this process, in
order; with one they run on the cluster, through the adapter in
:mod:`geoclusters.distributed`. A chunk's result depends only on its inputs,
so both paths return the same results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .errors import InputError

# tasks per worker thread by default: enough to balance uneven chunks, few enough to keep
# the per-task overhead small
TASKS_PER_THREAD = 4
MIN_CHUNK = 1_000
MAX_CHUNK = 100_000


def chunk_size(client, n: int, size: int | None, minimum: int = MIN_CHUNK) -> int | None:
    """Units per chunk: None (one chunk) without a client, else ``size`` or a default.

    The default gives about four tasks per worker thread, between ``minimum``
    and 100,000 units.
    """
    if client is None:
        if size is not None:
            raise InputError(
                "chunk_size only applies to the Dask engine",
                fix="pass client=geoclusters.distributed.client(), or drop chunk_size",
            )
        return None
    from .distributed import worker_threads

    threads = worker_threads(client)
    if size is None:
        per_task = math.ceil(n / (TASKS_PER_THREAD * threads))
        return int(min(max(per_task, minimum), MAX_CHUNK))
    if isinstance(size, bool) or not hasattr(size, "__index__"):
        raise InputError(f"chunk_size must be an integer, got {size!r}")
    if size < 1:
        raise InputError(f"chunk_size must be at least 1, got {size}")
    return int(size)


def map_chunks(
    kernel: Callable[..., Any],
    chunks: Sequence[tuple],
    shared: tuple = (),
    client=None,
) -> list[Any]:
    """``[kernel(*shared, *chunk) for chunk in chunks]``, locally or on ``client``.

    ``shared`` is sent to every Dask worker once; each chunk goes to one task.
    """
    if client is None:
        return [kernel(*shared, *chunk) for chunk in chunks]
    from .distributed import run_chunks

    return run_chunks(client, kernel, chunks, shared)
