"""The optional distributed engine: a Dask client for the kernels of graph and stats.

Contiguity building and permutation inference are the hot paths once areas
run into the hundreds of thousands (output areas, H3 cells, grids). They run
on a Dask cluster when given a ``client``::

    from geoclusters.distributed import client
    with client() as dask_client:                     # a LocalCluster on this machine
        graph = contiguity(areas, client=dask_client)
        lisa = local_moran(values, graph, seed=1, client=dask_client)
        moran_i = moran(values, graph, seed=1, client=dask_client)

``client("tcp://scheduler:8786")`` connects to a running cluster instead. The
engine needs the ``dask`` extra: ``pip install "geoclusters[dask]"``.

This module only adapts Dask: it makes and checks clients
(:func:`client`, :func:`validate_client`, :func:`worker_threads`) and runs a
list of chunks as tasks (:func:`run_chunks`). What is computed, and how the
work is cut into chunks, is decided by :mod:`geoclusters.graph` and
:mod:`geoclusters.stats` and done by the array kernels of
``geoclusters._kernels``, the same code on both paths, through one function
(``geoclusters._engine.map_chunks``).

Results do not depend on the engine
-----------------------------------
*Local permutation inference* (:func:`geoclusters.local_moran`,
:func:`geoclusters.local_g`): one table of neighbour draws is made from
``numpy.random.default_rng(seed)`` on the client and sent to every worker
once; each task counts a run of consecutive areas against it. So for a seed
every value, **p-values included, is identical** to the local path's, whatever
the chunk size and the number of workers.

*Global permutation inference* (:func:`geoclusters.moran`,
:func:`geoclusters.geary`): the permutations come in batches of 8, each drawn
from its own seed spawned from the call's (``numpy.random.SeedSequence``);
tasks take whole batches, so the simulated values, and the p-value, are the
local path's.

*Contiguity* (:func:`geoclusters.contiguity`): the areas are ordered along a
Hilbert curve of their bounding-box centres and cut into chunks of
consecutive areas, which are spatially compact. The client finds, with one
bounding-box query of an STR-tree, each chunk's *halo*: the areas whose
envelope comes within the tolerance of the chunk's. A worker receives the
chunk and its halo (as WKB, which keeps every coordinate exactly) and applies
the local builder's own kernel to them, keeping each pair ``i < j`` only in
the chunk that holds ``i``, so every pair is decided once, by the same rule.
Links added by the ``"nearest"`` island policy are computed on the client.

When it pays
------------
Dask adds a fixed cost per call (scheduling, serialising the inputs) and the
local kernels already use every core of one machine (numba threads), so on
one machine the engine gains little; it is for clusters with more cores than
one machine. Each worker runs its chunks with one thread, so expect the
permutation time to fall about in proportion to the worker threads, less the
fixed cost of sending the graph (about 100 MB per million areas) to each
worker. See ``docs/scale.md`` and ``benchmarks/README.md`` for measured times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["WORKER_MALLOC_ENV", "client", "run_chunks", "validate_client", "worker_threads"]

# Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes glibc's
# mmap threshold at 128 KiB: every multi-megabyte block of the permutation loop is then
# mapped and faulted in afresh, 2-3 times slower. These keep blocks up to 16 MiB on the heap
# and let a worker hold up to 128 MiB of free heap before trimming.
WORKER_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "16777216", "MALLOC_TRIM_THRESHOLD_": "134217728"}


def _import_distributed():
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            "the distributed engine needs Dask (dask.distributed), which is not installed; "
            'install it with: pip install "geoclusters[dask]"'
        ) from error
    return distributed


def client(
    address: str | None = None,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
    **options: Any,
) -> Client:
    """A Dask client: a local cluster by default, a running cluster by address.

    Close it when done (``client.close()``, or use it in a ``with`` block);
    closing a client made here also shuts down its local cluster.

    Parameters
    ----------
    address : str, optional
        Scheduler of a running cluster, e.g. ``"tcp://scheduler:8786"``. By
        default a :class:`dask.distributed.LocalCluster` is started.
    n_workers : int, optional
        Local workers; by default as many as the machine has cores (divided by
        ``threads_per_worker``). Not allowed with ``address``.
    threads_per_worker : int, default 1
        Threads per local worker. The hot loops hold the GIL for part of their
        time, so processes with one thread each use the cores best.
    processes : bool, default True
        Local workers in separate processes (True) or threads of this process.
        Worker processes start with :data:`WORKER_MALLOC_ENV` in their
        environment (unless this process already sets those variables); set
        them on the workers of a remote cluster too.
    **options
        Passed on to :class:`dask.distributed.Client` with ``address``
        (e.g. ``timeout=5``), to :class:`dask.distributed.LocalCluster`
        otherwise (e.g. ``dashboard_address=":0"``, ``memory_limit="4GB"``).

    Returns
    -------
    dask.distributed.Client

    Raises
    ------
    ImportError
        When Dask is not installed, saying how to install it.
    InputError
        When ``address`` is combined with local-cluster settings, or the
        scheduler cannot be reached.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from geoclusters import contiguity
    >>> squares = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)],
    ...                         index=["a", "b", "c"])
    >>> with client(n_workers=1, processes=False, dashboard_address=":0") as dask_client:
    ...     graph = contiguity(squares, client=dask_client)
    >>> sorted(graph["a"].index), list(graph.isolates)
    (['b'], ['c'])

    A cluster that is already running is reached by its scheduler's address:

    >>> dask_client = client("tcp://scheduler:8786")  # doctest: +SKIP
    """
    distributed = _import_distributed()
    if address is None:
        import dask

        # glibc reads these when a process starts: only the pre-spawn environment is early enough
        spawn_env = {
            f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC_ENV.items()
        }
        with dask.config.set(spawn_env):
            return distributed.Client(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=processes,
                **options,
            )
    if n_workers is not None or threads_per_worker != 1 or not processes:
        raise InputError(
            "n_workers, threads_per_worker and processes describe a local cluster, "
            f"but an address was given ({address!r})",
            fix="size the workers where the cluster is started, or drop the address",
        )
    try:
        return distributed.Client(address, **options)
    except OSError as error:
        raise InputError(
            f"could not reach the Dask scheduler at {address!r}: {error}",
            fix="check that the scheduler is running and the address and port are right",
        ) from None


def validate_client(dask_client) -> Client:
    """Return ``dask_client`` if it is a :class:`dask.distributed.Client`, else raise.

    Raises
    ------
    ImportError
        When Dask is not installed, saying how to install it.
    InputError
        For anything that is not a client.
    """
    distributed = _import_distributed()
    if not isinstance(dask_client, distributed.Client):
        raise InputError(
            f"client must be a dask.distributed.Client, got {type(dask_client).__name__}",
            fix="make one with geoclusters.distributed.client()",
        )
    return dask_client


def worker_threads(dask_client) -> int:
    """Worker threads of the cluster behind ``dask_client`` (at least 1)."""
    return max(1, sum(validate_client(dask_client).nthreads().values()))


def _apply(kernel, chunk, *shared):
    return kernel(*shared, *chunk)


def run_chunks(dask_client, kernel, chunks, shared=()) -> list:
    """``[kernel(*shared, *chunk) for chunk in chunks]`` as tasks on the cluster.

    ``shared`` is scattered to every worker once (broadcast); each chunk is
    scattered to one worker and processed by one task. Results come back in
    the chunks' order. This is the whole of the engine's use of Dask: the
    kernels and the chunking are the local path's.
    """
    validate_client(dask_client)
    # unique keys: content-hashed ones would collide with the same data of a previous call
    # whose release is still under way
    shared_futures = dask_client.scatter(list(shared), broadcast=True, hash=False) if shared else []
    parts = dask_client.scatter(list(chunks), hash=False)
    futures = [
        dask_client.submit(_apply, kernel, part, *shared_futures, pure=False) for part in parts
    ]
    return dask_client.gather(futures)
