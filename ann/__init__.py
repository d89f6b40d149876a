"""ANN Explorer: Tariq Rashid's classic MNIST network in plain NumPy, faithful and fast.

One module per concern:

- :mod:`ann.config`   the frozen configuration dataclasses and named presets
- :mod:`ann.network`  the multilayer perceptron, its activations, losses and error rules
- :mod:`ann.blas`     one BLAS library for every product, and the threads that share the large ones
- :mod:`ann.data`     MNIST from IDX or CSV files, download and verification
- :mod:`ann.datasets` the named datasets (MNIST, Fashion-MNIST, Kuzushiji-MNIST), their class names
- :mod:`ann.own_data` your own data (CSV, IDX, folders of images per class), checked, split, kept per workspace
- :mod:`ann.augment`  rotations (the seed's), shifts, elastic distortions and pens (thickness, contrast,
  noise), over a batch
- :mod:`ann.train`    the training loop: a generator of per-epoch metrics
- :mod:`ann.metrics`  scorecard, accuracy, confusion matrix, precision and recall
- :mod:`ann.images`   user images to network inputs, the way MNIST itself was made, and nearer its look
- :mod:`ann.model_io` model files (.npz, no pickle)
- :mod:`ann.models`   the shipped models: stable names, files, the default
- :mod:`ann.inside`   looking inside a trained network: backquery, weight pictures, activations
- :mod:`ann.experiments` the seed's error-rule comparison and hyperparameter sweeps
- :mod:`ann.sweep`    grids of runs trained side by side on local processes or a Dask cluster
- :mod:`ann.results`  experiment results files (JSON, versioned, validated)
- :mod:`ann.by_hand`  one training step worked out number by number (a small network, or one node)
- :mod:`ann.robustness` damaged images, the exact input gradient, FGSM, occlusion maps
- :mod:`ann.hidden_map` the last hidden layer in 2-D: PCA, t-SNE, Procrustes alignment
- :mod:`ann.epochs`   a run epoch by epoch: aligned maps and what each epoch changed
- :mod:`ann.cli`      ``python -m ann``
"""

__version__ = "0.1.0"
