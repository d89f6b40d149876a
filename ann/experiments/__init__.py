"""Grids of runs and their results: one way to run a grid, here, on local processes or on a Dask cluster.

- :mod:`ann.experiments.grid`        the grid: settings x seeds as checked run specifications
- :mod:`ann.experiments.run`         one run of a grid, trained with the product's own loop
- :mod:`ann.experiments.executors`   where runs train: this process, local processes, a Dask cluster
- :mod:`ann.experiments.sweep`       :func:`~ann.experiments.sweep.run_sweep`, the one way to run a grid
  (``python -m ann sweep``, the Experiments page's live runs)
- :mod:`ann.experiments.seed_claims` the seed's error-rule comparison and one-setting sweeps as grids, and
  the results the Experiments page draws
- :mod:`ann.experiments.results`     experiment results files (JSON, versioned, validated)
- :mod:`ann.experiments.timing`      how long a local sweep takes on this server (the Experiments page's estimates)
"""
