"""The training service: runs as jobs in a SQLite run store, trained by worker processes.

- :mod:`ann.service.records`     what a run is (``RunInfo``), its statuses, controls and sources, the limits
- :mod:`ann.service.database`    the database: schema, connections, rebuilding a damaged one
- :mod:`ann.service.queries`     what pages read; :mod:`ann.service.commands` what visitors ask
- :mod:`ann.service.choices`     each workspace's active model and dataset
- :mod:`ann.service.queue`       the worker's side: claiming runs fairly, progress, epochs, the end
- :mod:`ann.service.store`       ``RunStore``: all of the above, plus checkpoints and each workspace's datasets
- :mod:`ann.service.checkpoints` checkpoint files; :mod:`ann.service.datasets` visitors' own datasets on disk
- :mod:`ann.service.choices`     each workspace's active model and dataset, kept for its next session
- :mod:`ann.service.worker`      a worker process: trains one run after another
- :mod:`ann.service.cluster`     the same runs trained on a Dask cluster, the server still the only writer
- :mod:`ann.service.pool`        ``TrainingService``: the pool of workers in the web server, and its one door
  for every request about a run
"""
