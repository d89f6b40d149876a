"""ANN Explorer: Tariq Rashid's classic MNIST network in plain NumPy, faithful and fast.

The network is at this package's root; everything else is in a folder named for its concern, and imports
run one way (``tests/test_layout.py`` checks it): the root imports only the root; ``data`` the root;
``lab``, ``experiments`` and ``service`` the root and ``data``; ``cli`` all of them. Nothing imports Streamlit.

The network (this folder):

- :mod:`ann.config`   the frozen configuration dataclasses and named presets
- :mod:`ann.network`  the multilayer perceptron, its activations, losses and error rules
- :mod:`ann.blas`     one BLAS library for every product, and the threads that share the large ones
- :mod:`ann.inputs`   the seed's encoding: pixels to inputs in 0.01..1.0, labels to 0.01/0.99 targets
- :mod:`ann.augment`  rotations (the seed's), shifts, elastic distortions and pens, over a batch
- :mod:`ann.train`    the training loop: a generator of per-epoch metrics
- :mod:`ann.metrics`  scorecard, accuracy, confusion matrix, precision and recall
- :mod:`ann.model_io` model files (.npz, no pickle); :mod:`ann.dataset_tag` what a model was trained on
- :mod:`ann.models`   the shipped models: stable names, files, the default
- :mod:`ann.live_points` points within an epoch for the live curves, and the fixed test slice they score
- :mod:`ann.formats`  how accuracies and counts are written; :mod:`ann.estimates` how long work will take here
- :mod:`ann.remote`   ``ann``'s own code sent to a Dask cluster with its tasks
- :mod:`ann.files`, :mod:`ann.paths`  atomic writes; where the project's folders are
- :mod:`ann.remote`   this package's code, sent to a Dask cluster that has only the dependencies

The rest:

- :mod:`ann.data`        MNIST's files, the named datasets, your own data, image decoding and preprocessing
- :mod:`ann.lab`         looking inside: backquery, one step by hand, robustness, the hidden-layer map, epochs
- :mod:`ann.experiments` grids of runs (the seed's error-rule comparison, sweeps; locally or on Dask) and
  their results files
- :mod:`ann.service`     the training service: the run store (SQLite), its worker processes and their pool,
  or a Dask cluster
- :mod:`ann.cli`         ``python -m ann`` (and the ``ann`` command)
"""

__version__ = "0.6.0"
