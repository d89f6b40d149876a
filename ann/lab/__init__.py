"""Looking inside a trained network.

- :mod:`ann.lab.inside`     backquery (the network run backwards), weight pictures, activations
- :mod:`ann.lab.by_hand`    one training step worked out number by number
- :mod:`ann.lab.robustness` damaged images, the exact input gradient, FGSM, occlusion maps
- :mod:`ann.lab.hidden_map` the last hidden layer in two dimensions: PCA, t-SNE, Procrustes alignment
- :mod:`ann.lab.epochs`     a run epoch by epoch: aligned maps and what each epoch changed
"""
