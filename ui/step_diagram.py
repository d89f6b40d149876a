"""The small network of the "One step, by hand" page drawn as nodes and links, every number on it.

Plain SVG text, as ``ui/diagram.py`` draws the network on Home: the inputs ``I``, the hidden nodes ``J`` and
the outputs ``K`` in the seed's own letters, each link labelled with its weight (red positive, blue negative,
thicker for a larger weight), each node with its output, each output with its target and error.
"""

from __future__ import annotations

from html import escape

import numpy as np

from ui.phone import wide_drawing

INK = "#1f2937"
MUTED = "#475569"
POSITIVE, NEGATIVE = "#b2182b", "#2166ac"
FILL = {"I": "#64748b", "J": "#7c3aed", "K": "#059669"}
WIDTH, HEIGHT = 760, 330
RADIUS = 24
SMALLEST = 12  # the smallest font size used, in the drawing's units


def _short(value: float) -> str:
    """A weight in at most 4 decimals, keeping one: 3.0, 0.9, -0.0123."""
    text = f"{value:.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _ys(count: int) -> list[float]:
    top, bottom = 60.0, HEIGHT - 70.0
    if count == 1:
        return [(top + bottom) / 2]
    return [top + i * (bottom - top) / (count - 1) for i in range(count)]


def _links(xs: tuple[float, float], ys_from: list[float], ys_to: list[float], weights: np.ndarray,
           prefix: str) -> list[str]:
    parts = []
    biggest = max(float(np.abs(weights).max()), 1e-9)
    for j, y1 in enumerate(ys_to):
        for i, y0 in enumerate(ys_from):
            w = float(weights[j, i])
            colour = POSITIVE if w >= 0 else NEGATIVE
            width = 1.0 + 4.0 * abs(w) / biggest
            x0, x1 = xs[0] + RADIUS, xs[1] - RADIUS
            parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}" '
                         f'stroke-opacity="0.55" stroke-width="{width:.1f}"><title>{prefix}{i + 1},{j + 1} = '
                         f'{w:.4f}</title></line>')
            # Level links are labelled at their middle, above the line; crossing links near their start,
            # where the two lines of a cross are still far apart.
            t = 0.5 if i == j else 0.2
            lx, ly = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            dy = -9 if i == j else (-8 if y1 > y0 else 16)
            parts.append(f'<text x="{lx:.1f}" y="{ly + dy:.1f}" text-anchor="middle" font-size="12" '
                         f'fill="{colour}" paint-order="stroke" stroke="white" stroke-width="4">'
                         f'W{i + 1},{j + 1} = {_short(w)}</text>')
    return parts


def _node(x: float, y: float, letter: str, index: int, value: float, note: str = "") -> str:
    return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS}" fill="{FILL[letter]}" stroke="white" stroke-width="2">'
            f'<title>{letter}{index + 1}: output {value:.4f}</title></circle>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" font-size="14" font-weight="bold" '
            f'fill="white">{letter}{index + 1}</text>'
            f'<text x="{x:.1f}" y="{y + RADIUS + 16:.1f}" text-anchor="middle" font-size="12" fill="{INK}">'
            f'{escape(f"{value:.4f}")}</text>'
            + (f'<text x="{x:.1f}" y="{y + RADIUS + 31:.1f}" text-anchor="middle" font-size="12" fill="{MUTED}">'
               f'{escape(note)}</text>' if note else ""))


def step_svg(inputs: np.ndarray, hidden_weights: np.ndarray, output_weights: np.ndarray,
             hidden_outputs: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> str:
    """An SVG of the network: inputs I, hidden nodes J, outputs K, links labelled ``W i,j`` (from node i below
    to node j above) with their weights, node outputs under the nodes, targets and errors under the outputs.

    Parameters
    ----------
    inputs : (n_in,), hidden_weights : (n_hidden, n_in), output_weights : (n_out, n_hidden)
    hidden_outputs : (n_hidden,), outputs : (n_out,), targets : (n_out,)  all float
    """
    xs = (70.0, WIDTH / 2, WIDTH - 70.0)
    y_in, y_hidden, y_out = _ys(len(inputs)), _ys(len(hidden_outputs)), _ys(len(outputs))
    parts = _links((xs[0], xs[1]), y_in, y_hidden, hidden_weights, "W")
    parts += _links((xs[1], xs[2]), y_hidden, y_out, output_weights, "W")
    parts += [_node(xs[0], y, "I", i, float(v)) for i, (y, v) in enumerate(zip(y_in, inputs))]
    parts += [_node(xs[1], y, "J", j, float(v), "sigmoid(X)") for j, (y, v) in enumerate(zip(y_hidden, hidden_outputs))]
    parts += [_node(xs[2], y, "K", k, float(v), f"T {float(t):.2f}, E {float(t - v):+.4f}")
              for k, (y, v, t) in enumerate(zip(y_out, outputs, targets))]
    heads = "".join(f'<text x="{x:.1f}" y="22" text-anchor="middle" font-size="14" font-weight="bold" '
                    f'fill="{INK}">{name}</text>' for x, name in zip(xs, ("Inputs I", "Hidden J", "Outputs K")))
    return wide_drawing(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" aria-label="the small network, with its weights and signals">'
        f'{heads}{"".join(parts)}</svg>', WIDTH, SMALLEST)
