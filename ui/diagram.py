"""The network at a glance, as an SVG drawing: layers as columns of nodes, links between neighbours.

Plain SVG text rather than a chart library: the Home page draws it first thing after the server starts,
and it needs no import heavier than the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ui.phone import wide_drawing

INK = "#1f2937"
MUTED = "#475569"
COLORS = {"input": "#64748b", "hidden": "#7c3aed", "output": "#059669"}
# Drawn about as wide as a phone's screen with large text, so that it keeps its text at 11 CSS px or more
# there without scrolling sideways (and a little larger on a laptop): 100 units between layers at least.
MIN_WIDTH, HEIGHT = 560, 400
TOP, BOTTOM = 24, 300  # the band the node columns are centred in; labels go underneath
RADIUS = 9
SLOT = 25  # vertical distance between drawn nodes
SMALLEST = 18  # the smallest font size used, in the drawing's units


def visible_slots(count: int, limit: int) -> list[int | None]:
    """The node numbers drawn for a layer of ``count`` nodes: all of them, or the first and last few with
    a gap (``None``) between them."""
    if count <= limit:
        return list(range(count))
    half = (limit - 1) // 2
    return [*range(half), None, *range(count - half, count)]


def network_svg(layer_sizes: Sequence[int], activation: str, output: str) -> str:
    """An SVG drawing of a network with these layer sizes; hovering a node names its layer."""
    n_layers = len(layer_sizes)
    width = max(MIN_WIDTH, 190 + 100 * (n_layers - 1))
    xs = [80 + i * (width - 190) / max(n_layers - 1, 1) for i in range(n_layers)]
    middle = (TOP + BOTTOM) / 2
    columns: list[list[tuple[float, int]]] = []
    parts: list[str] = []
    gaps: list[str] = []
    labels: list[str] = []
    for layer, count in enumerate(layer_sizes):
        if layer == 0:
            kind, name, role = "input", "Input", "pixels 0.01-1.0"
        elif layer == n_layers - 1:
            kind, name, role = "output", "Output", f"{output}, one per digit"
        else:
            kind, name, role = "hidden", f"Hidden {layer}", activation
        slots = visible_slots(count, 10 if kind == "output" else 7)
        top = middle - (len(slots) - 1) * SLOT / 2
        column = []
        for position, node in enumerate(slots):
            y = top + position * SLOT
            if node is None:
                gaps.append(f'<text x="{xs[layer]:.1f}" y="{y + 7:.1f}" text-anchor="middle" font-size="22" '
                            f'fill="{INK}">⋮</text>')
            else:
                column.append((y, node))
        columns.append(column)
        for y, node in column:
            tip = f"{name} node {node + (0 if kind == 'output' else 1)} of {count:,} ({role})"
            parts.append(f'<circle cx="{xs[layer]:.1f}" cy="{y:.1f}" r="{RADIUS}" fill="{COLORS[kind]}" '
                         f'stroke="white" stroke-width="1.5"><title>{escape(tip)}</title></circle>')
            if kind == "output":
                parts.append(f'<text x="{xs[layer] + 16:.1f}" y="{y + 4:.1f}" font-size="{SMALLEST}" fill="{INK}">'
                             f'{node}</text>')
        labels.append(f'<text x="{xs[layer]:.1f}" y="{BOTTOM + 36}" text-anchor="middle" font-size="{SMALLEST + 2}" '
                      f'font-weight="bold" fill="{INK}">{escape(name)}</text>'
                      f'<text x="{xs[layer]:.1f}" y="{BOTTOM + 60}" text-anchor="middle" font-size="{SMALLEST}" '
                      f'fill="{MUTED}">{count:,} nodes</text>'
                      f'<text x="{xs[layer]:.1f}" y="{BOTTOM + 83}" text-anchor="middle" font-size="{SMALLEST}" '
                      f'fill="{MUTED}">{escape(role)}</text>')
    links = [f'<line x1="{xs[l]:.1f}" y1="{y0:.1f}" x2="{xs[l + 1]:.1f}" y2="{y1:.1f}"/>'
             for l in range(n_layers - 1) for y0, _ in columns[l] for y1, _ in columns[l + 1]]
    return wide_drawing(
        f'<svg viewBox="0 0 {width} {HEIGHT}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" aria-label="A {"-".join(map(str, layer_sizes))} network">'
        f'<g stroke="#94a3b8" stroke-opacity="0.35" stroke-width="0.7">{"".join(links)}</g>'
        f'{"".join(parts)}{"".join(gaps)}{"".join(labels)}</svg>', width, SMALLEST)
