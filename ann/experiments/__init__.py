"""Grids of runs and their results.

- :mod:`ann.experiments.live`    the seed's error-rule comparison and one-setting sweeps, in this process,
  with progress (the Experiments page)
- :mod:`ann.experiments.sweep`   any grid of settings and seeds, on local processes or a Dask cluster
  (``python -m ann sweep``)
- :mod:`ann.experiments.results` experiment results files (JSON, versioned, validated)
- :mod:`ann.experiments.timing`  how long a local sweep takes on this server (the Experiments page's estimates)
"""
