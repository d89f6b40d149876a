"""Shareable setups: the Train page's settings as the URL's query parameters, and back.

Like the TensorFlow Playground, the address of the Train page carries its configuration, so a copied link
opens the same setup: ``/train?preset=fast&lr=0.5&hidden=100,50``. The names are the command line's flags
(``python -m ann train --preset fast --lr 0.5 --hidden 100 50``), and only settings that differ from the
starting point are written: the preset named in the link (the seed's recipe when none is) and 10,000
training records. A value the page cannot use is reported by name and replaced by that starting value; it
never stops the page.

Pure functions of plain dicts: the page reads ``st.query_params`` and ``st.session_state`` and passes them
in, so the parsing is tested without Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ann.config import (
    ACTIVATION_NAMES,
    AUGMENT_NAMES,
    DTYPE_NAMES,
    ERROR_RULE_NAMES,
    LOSS_NAMES,
    PROPAGATE_NAMES,
    SCHEDULE_NAMES,
)

NO_PRESET = "none"  # preset=none: custom settings on the seed's base
DEFAULT_PRESET = "seed"
RESERVED = ("embed", "embed_options")  # Streamlit's own query parameters: left alone
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Param:
    """One query parameter: its name in the URL, the Train page's widget key, and the values it takes.

    ``kind`` is "float", "int", "bool" or "choice"; numbers must lie in ``low..high`` (the widget's range)
    or be one of ``options`` when given.
    """

    name: str
    key: str
    kind: str
    low: float | None = None
    high: float | None = None
    options: tuple[Any, ...] | None = None


def train_params(records: Sequence[int], batch_sizes: Sequence[int]) -> tuple[Param, ...]:
    """The Train page's parameters, in the order a link lists them (network first, as the page does).

    ``records`` and ``batch_sizes`` are the page's select-slider options.
    """
    return (
        Param("activation", "tr_activation", "choice", options=ACTIVATION_NAMES),
        Param("loss", "tr_loss", "choice", options=LOSS_NAMES),
        Param("error-rule", "tr_error_rule", "choice", options=ERROR_RULE_NAMES),
        Param("propagate", "tr_propagate", "choice", options=PROPAGATE_NAMES),
        Param("bias", "tr_bias", "bool"),
        Param("lr", "tr_lr", "float", 0.0001, 5.0),
        Param("epochs", "tr_epochs", "int", 1, 100),
        Param("batch-size", "tr_batch", "int", options=tuple(batch_sizes)),
        Param("momentum", "tr_momentum", "float", 0.0, 0.99),
        Param("weight-decay", "tr_decay", "float", 0.0, 0.01),
        Param("schedule", "tr_schedule", "choice", options=SCHEDULE_NAMES),
        Param("warmup", "tr_warmup", "float", 0.0, 10.0),
        Param("seed", "tr_seed", "int", 0, 2**32 - 1),
        Param("limit", "tr_limit", "int", options=tuple(records)),
        Param("shuffle", "tr_shuffle", "bool"),
        Param("rotate", "tr_rotate", "float", 0.0, 30.0),
        Param("augment", "tr_augment", "choice", options=AUGMENT_NAMES),
        Param("shift", "tr_shift", "int", 0, 4),
        Param("elastic", "tr_elastic", "float", 0.0, 60.0),
        Param("elastic-sigma", "tr_sigma", "float", 1.0, 8.0),
        Param("elastic-fraction", "tr_elastic_share", "float", 0.0, 1.0),
        Param("thickness", "tr_thickness", "float", 0.0, 3.0),
        Param("contrast", "tr_contrast", "float", 0.0, 2.0),
        Param("noise", "tr_noise", "float", 0.0, 0.3),
        Param("dtype", "tr_dtype", "choice", options=DTYPE_NAMES),
    )


def _format(param: Param, value: Any) -> str:
    if param.kind == "bool":
        return "true" if value else "false"
    if param.kind == "float":
        return f"{float(value):g}"
    if param.kind == "int":
        return str(int(value))
    return str(value)


def _same(param: Param, a: Any, b: Any) -> bool:
    if param.kind == "float":
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _parse(param: Param, text: str) -> tuple[Any, str | None]:
    """The widget value for ``text``, or None and why it cannot be used."""
    text = text.strip()
    if param.kind == "bool":
        if text.lower() in TRUE_WORDS:
            return True, None
        if text.lower() in FALSE_WORDS:
            return False, None
        return None, "is not true or false"
    if param.kind == "choice":
        if text in param.options:
            return text, None
        return None, f"is not one of {', '.join(param.options)}"
    try:
        number = float(text)
    except ValueError:
        return None, "is not a number"
    if not math.isfinite(number):
        return None, "is not a number"
    if param.kind == "int":
        if number != int(number):
            return None, "is not a whole number"
        number = int(number)
    if param.options is not None and number not in param.options:
        return None, f"is not one of {', '.join(str(o) for o in param.options)}"
    if param.low is not None and not param.low <= number <= param.high:
        return None, f"is outside {_format(param, param.low)} to {_format(param, param.high)}"
    return number, None


def hidden_text(layers: Sequence[int]) -> str:
    """``hidden=200,100``; ``none`` for a network without hidden layers."""
    return ",".join(str(int(n)) for n in layers) if layers else NO_PRESET


def _parse_hidden(text: str, max_layers: int, low: int, high: int) -> tuple[tuple[int, ...] | None, str | None]:
    text = text.strip()
    if text.lower() in (NO_PRESET, "", "0"):
        return (), None
    try:
        layers = tuple(int(part) for part in text.split(","))
    except ValueError:
        return None, "is not a comma-separated list of node counts, like 200 or 200,100"
    if len(layers) > max_layers:
        return None, f"has {len(layers)} layers; the page offers at most {max_layers}"
    if any(not low <= n <= high for n in layers):
        return None, f"has a layer outside {low} to {high} nodes"
    return layers, None


def active_hidden(values: Mapping[str, Any]) -> tuple[int, ...]:
    """The hidden layer sizes the Train page's widgets describe."""
    return tuple(int(values[f"tr_hidden_{i}"]) for i in range(int(values["tr_layers"])))


def to_query(values: Mapping[str, Any], base_for: Callable[[str], Mapping[str, Any]],
             params: Sequence[Param]) -> dict[str, str]:
    """The query parameters for the page's current settings: only what differs from the starting point.

    Parameters
    ----------
    values : the Train page's widget values (``st.session_state``), keys ``tr_*``
    base_for : preset name -> that preset's widget values (the page's ``preset_values`` plus its default
        record count); the starting point a link's settings are measured against
    params : :func:`train_params`
    """
    preset = values.get("tr_preset")
    query: dict[str, str] = {}
    if preset != DEFAULT_PRESET:
        query["preset"] = preset or NO_PRESET
    base = base_for(preset or DEFAULT_PRESET)
    layers = active_hidden(values)
    if layers != active_hidden(base):
        query["hidden"] = hidden_text(layers)
    for param in params:
        value = values.get(param.key)
        if value is not None and not _same(param, value, base[param.key]):
            query[param.name] = _format(param, value)
    return query


def from_query(query: Mapping[str, str], base_for: Callable[[str], Mapping[str, Any]],
               params: Sequence[Param], presets: Sequence[str], max_layers: int,
               hidden_range: tuple[int, int]) -> tuple[dict[str, Any], list[str]]:
    """Widget values for a link's query parameters, and one warning per parameter that could not be used.

    Returns ``({}, [])`` for a link without settings. Otherwise the values are complete: the starting
    point (the link's preset, else the seed's) with every usable parameter applied; ``tr_preset`` is the
    preset (None for ``preset=none``).
    """
    query = {k: v for k, v in query.items() if k not in RESERVED}
    if not query:
        return {}, []
    warnings: list[str] = []
    preset: str | None = DEFAULT_PRESET
    if "preset" in query:
        text = query["preset"].strip()
        if text == NO_PRESET:
            preset = None
        elif text in presets:
            preset = text
        else:
            warnings.append(f"The link's `preset={query['preset']}` is not one of {', '.join(presets)} or "
                            f"{NO_PRESET}; starting from the seed's settings.")
    values = dict(base_for(preset or DEFAULT_PRESET))
    values["tr_preset"] = preset
    by_name = {p.name: p for p in params}
    for name, text in query.items():
        if name == "preset":
            continue
        if name == "hidden":
            layers, problem = _parse_hidden(text, max_layers, *hidden_range)
            if problem:
                warnings.append(f"The link's `hidden={text}` {problem}; using "
                                f"{hidden_text(active_hidden(values))}.")
                continue
            values["tr_layers"] = len(layers)
            values.update({f"tr_hidden_{i}": n for i, n in enumerate(layers)})
            continue
        param = by_name.get(name)
        if param is None:
            warnings.append(f"The link's `{name}` is not a setting of this page; ignored.")
            continue
        value, problem = _parse(param, text)
        if problem:
            warnings.append(f"The link's `{name}={text}` {problem}; using {_format(param, values[param.key])}.")
            continue
        values[param.key] = value
    return values, warnings


def link(page_url: str | None, query: Mapping[str, str], path: str = "/train") -> str:
    """The page's address with ``query``: the full URL when the browser's is known, else the path."""
    address = (page_url or "").split("?")[0].split("#")[0] or path
    return f"{address}?{urlencode(query, safe=',')}" if query else address
