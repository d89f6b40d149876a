"""Configuration: one frozen dataclass for the network, one for training, and the named presets.

Every default is the seed's value (Tariq Rashid's classic network as the seed blog builds it), so
``NetworkConfig()`` and ``TrainConfig()`` together *are* the seed's program. The presets are the same
recipes the command line (``--preset``) and the dashboard offer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu")
LOSS_NAMES = ("mse", "cross_entropy")
ERROR_RULE_NAMES = ("transpose", "equal", "proportional", "transpose_normalized")
PROPAGATE_NAMES = ("error", "delta")
DTYPE_NAMES = ("float32", "float64")
AUGMENT_NAMES = ("copies", "random")
SCHEDULE_NAMES = ("constant", "cosine")
SWEEP_PARAMETERS = ("learning_rate", "hidden_nodes", "epochs")  # what ann.experiments.sweep can vary


class ConfigError(ValueError):
    """A configuration value is out of range or unknown; the message names it and the allowed values."""


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not known; choose one of: {', '.join(allowed)}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (low <= value <= high):
        raise ConfigError(f"{name}={value!r} is out of range; use a value from {low} to {high}")


@dataclass(frozen=True)
class NetworkConfig:
    """The shape and the rules of the network."""

    input_nodes: int = 784  # 28x28 pixels, one input node each
    hidden_nodes: tuple[int, ...] = (200,)  # the seed settled on one hidden layer of 200 by tuning
    output_nodes: int = 10  # one per digit
    activation: str = "sigmoid"  # hidden layers: sigmoid (seed), tanh or relu
    loss: str = "mse"  # mse with sigmoid outputs (seed), or cross_entropy with softmax outputs
    error_rule: str = "transpose"  # how the error is sent back to a hidden layer (seed: W^T.E)
    propagate: str = "error"  # "error": the seed's update; "delta": the exact gradient of the loss
    bias: bool = False  # the seed's network has no bias nodes
    dtype: str = "float32"  # float64 reproduces the seed bit for bit; float32 is twice as fast

    def __post_init__(self) -> None:
        hidden = tuple(int(h) for h in self.hidden_nodes)
        object.__setattr__(self, "hidden_nodes", hidden)
        _check_range("input_nodes", self.input_nodes, 1, 100_000)
        _check_range("output_nodes", self.output_nodes, 2, 100_000)
        if len(hidden) > 10:
            raise ConfigError(f"hidden_nodes has {len(hidden)} layers; use at most 10")
        for h in hidden:
            _check_range("hidden_nodes", h, 1, 10_000)
        _check_choice("activation", self.activation, ACTIVATION_NAMES)
        _check_choice("loss", self.loss, LOSS_NAMES)
        _check_choice("error_rule", self.error_rule, ERROR_RULE_NAMES)
        _check_choice("propagate", self.propagate, PROPAGATE_NAMES)
        _check_choice("dtype", self.dtype, DTYPE_NAMES)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Node counts from input to output, e.g. ``(784, 200, 10)``."""
        return (self.input_nodes, *self.hidden_nodes, self.output_nodes)


@dataclass(frozen=True)
class TrainConfig:
    """How the network is trained."""

    learning_rate: float = 0.1  # the seed's value, chosen by tuning
    epochs: int = 5  # more starts to overfit, the seed found
    batch_size: int = 1  # one sample at a time, as the seed trains
    rotate: float = 10.0  # degrees; 0 turns rotation off
    augment: str = "copies"  # copies: every record is also trained rotated by +rotate and -rotate (seed);
    #                          random: one randomly distorted copy per record per epoch
    shift: int = 0  # random: largest shift in pixels
    elastic_alpha: float = 0.0  # random: strength of Simard's elastic distortion (0 = off, 34 is typical)
    elastic_sigma: float = 4.0  # random: smoothness of the distortion field in pixels
    elastic_fraction: float = 1.0  # random: share of each chunk of records that is also distorted
    #                                elastically (the rest only rotated and shifted)
    thickness: float = 0.0  # random: strokes thinned or thickened by up to this many pixels of width (0 = off)
    contrast: float = 0.0  # random: stroke edges raised to a power from 1/(1+c) to 1+c (0 = off)
    noise: float = 0.0  # random: Gaussian noise of standard deviation up to this (0..1 scale; 0 = off)
    momentum: float = 0.0  # 0 is the seed's plain gradient step
    weight_decay: float = 0.0  # L2 penalty on the weights
    schedule: str = "constant"  # learning rate over the epochs: constant (seed) or cosine decay
    warmup_epochs: float = 0.0  # cosine: linear warm-up from 0 over this many epochs
    shuffle: bool = False  # the seed trains in file order
    seed: int = 80  # np.random.seed(80) in the seed: initial weights, shuffling, augmentation
    limit: int | None = None  # train on the first N records only (None: all)

    def __post_init__(self) -> None:
        _check_range("learning_rate", self.learning_rate, 1e-6, 10.0)
        _check_range("epochs", self.epochs, 1, 1000)
        _check_range("batch_size", self.batch_size, 1, 60_000)
        _check_range("rotate", self.rotate, 0.0, 180.0)
        _check_choice("augment", self.augment, AUGMENT_NAMES)
        _check_range("shift", self.shift, 0, 10)
        _check_range("elastic_alpha", self.elastic_alpha, 0.0, 100.0)
        _check_range("elastic_sigma", self.elastic_sigma, 0.5, 20.0)
        _check_range("elastic_fraction", self.elastic_fraction, 0.0, 1.0)
        _check_range("thickness", self.thickness, 0.0, 4.0)
        _check_range("contrast", self.contrast, 0.0, 3.0)
        _check_range("noise", self.noise, 0.0, 0.5)
        _check_range("momentum", self.momentum, 0.0, 0.999)
        _check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        _check_choice("schedule", self.schedule, SCHEDULE_NAMES)
        _check_range("warmup_epochs", self.warmup_epochs, 0.0, float(self.epochs))
        _check_range("seed", self.seed, 0, 2**32 - 1)
        if self.limit is not None:
            _check_range("limit", self.limit, 1, 10_000_000)

    @property
    def random_augment(self) -> bool:
        """True when each epoch trains one random variant of every record (augment "random", some enabled)."""
        return self.augment == "random" and bool(self.rotate or self.shift or self.elastic_alpha or self.thickness
                                                 or self.contrast or self.noise)

    @property
    def copies_per_record(self) -> int:
        """How many training samples one record yields per epoch (3 for the seed's rotations)."""
        return 3 if (self.augment == "copies" and self.rotate > 0) else 1


@dataclass(frozen=True)
class Preset:
    """A named recipe: a network and a training configuration, with a line saying what to expect."""

    name: str
    title: str
    description: str
    network: NetworkConfig
    train: TrainConfig


PRESETS: dict[str, Preset] = {
    "seed": Preset(
        name="seed",
        title="Seed classic",
        description="The seed blog's network exactly: 784-200-10 sigmoid, lr 0.1, one sample at a time, "
        "5 epochs, every record also rotated by +10 and −10 degrees.",
        network=NetworkConfig(),
        train=TrainConfig(),
    ),
    "fast": Preset(
        name="fast",
        title="Fast",
        description="The seed's network trained in shuffled mini-batches of 32 with momentum and no "
        "rotations: about 97% in seconds.",
        network=NetworkConfig(),
        train=TrainConfig(learning_rate=0.3, epochs=5, batch_size=32, rotate=0.0, momentum=0.9,
                          shuffle=True),
    ),
    "best": Preset(
        name="best",
        title="Best",
        description="784-800-800-10 ReLU with softmax and cross-entropy, biases, batches of 256 with momentum "
        "0.9, a cosine learning-rate schedule, 60 epochs; every epoch each record is randomly rotated (up to "
        "12 degrees) and shifted (up to 2 pixels), and half of them also elastically distorted: about 99.3-99.4% "
        "(99.34-99.46% over five seeds) in about 160 s of training on 2 free cores (longer on a busy machine).",
        network=NetworkConfig(hidden_nodes=(800, 800), activation="relu", loss="cross_entropy",
                              propagate="delta", bias=True),
        # Batches of 256 at lr 0.1: the products run nearer the machine's peak than at 64, and
        # 60 such epochs end at least as high as 50 of batch 64 at lr 0.05 (bench/README.md).
        train=TrainConfig(learning_rate=0.1, epochs=60, batch_size=256, rotate=12.0, augment="random",
                          shift=2, elastic_alpha=34.0, elastic_sigma=4.0, elastic_fraction=0.5, momentum=0.9,
                          schedule="cosine", warmup_epochs=1.0, shuffle=True),
    ),
    "handwriting": Preset(
        name="handwriting",
        title="Handwriting",
        description="The earlier Best recipe (batches of 64, lr 0.05, 50 epochs), with "
        "every record's pen changed too: strokes thinned or thickened by "
        "up to 1.5 pixels and their edges made softer or harder (contrast 0.5), because real handwriting's "
        "pens differ from MNIST's more than its shapes do. It reads handwriting from outside MNIST best "
        "(bench/real_handwriting.py).",
        network=NetworkConfig(hidden_nodes=(800, 800), activation="relu", loss="cross_entropy",
                              propagate="delta", bias=True),
        train=TrainConfig(learning_rate=0.05, epochs=50, batch_size=64, rotate=12.0, augment="random",
                          shift=2, elastic_alpha=34.0, elastic_sigma=4.0, elastic_fraction=0.5, thickness=1.5,
                          contrast=0.5, momentum=0.9, schedule="cosine", warmup_epochs=1.0, shuffle=True),
    ),
}


def network_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(NetworkConfig))


def train_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(TrainConfig))


def configs_from_dict(values: dict[str, Any], preset: str | None = None) -> tuple[NetworkConfig, TrainConfig]:
    """Build both configurations from one flat dict (CLI flags, URL query, model file).

    Keys of either dataclass are accepted; unknown keys raise :class:`ConfigError`. Values not given come
    from ``preset`` (if named) or from the seed's defaults.
    """
    if preset is not None and preset not in PRESETS:
        raise ConfigError(f"preset={preset!r} is not known; choose one of: {', '.join(PRESETS)}")
    base_net = PRESETS[preset].network if preset else NetworkConfig()
    base_train = PRESETS[preset].train if preset else TrainConfig()
    unknown = set(values) - set(network_fields()) - set(train_fields())
    if unknown:
        raise ConfigError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
    net_values = {k: v for k, v in values.items() if k in network_fields()}
    train_values = {k: v for k, v in values.items() if k in train_fields()}
    try:
        return replace(base_net, **net_values), replace(base_train, **train_values)
    except TypeError as exc:  # a value of the wrong type reaching a comparison
        raise ConfigError(f"bad configuration value: {exc}") from None


def configs_to_dict(network: NetworkConfig, train: TrainConfig) -> dict[str, Any]:
    """One flat dict of both configurations (hidden_nodes as a list), the inverse of configs_from_dict."""
    out = asdict(network) | asdict(train)
    out["hidden_nodes"] = list(network.hidden_nodes)
    return out
