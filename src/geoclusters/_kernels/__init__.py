"""Array-only kernels: the hot loops under :mod:`geoclusters.graph` and :mod:`geoclusters.stats`.

Everything here takes and returns plain arrays (numpy, shapely geometry
arrays) and imports nothing else from geoclusters, so a kernel can be shipped
to a Dask worker as it is. The public modules prepare the inputs, cut them
into chunks and call the kernels through :func:`geoclusters._engine.map_chunks`.

Compiled kernels use numba with ``cache=True``: the first process compiles
them (a few seconds) and stores the machine code next to this package, so
later processes load it in milliseconds.
"""
