"""Pictures for the pages as small PNGs in one HTML element: cheap for the server, crisp on screen.

Why not ``st.image`` with a list of arrays: each picture is then encoded as a PNG of its full screen size on
every script run of every session, and fetched by the browser in a request of its own (the Dataset page's 60
thumbnails were 71 requests a visit; its script spent more on them than on anything else). Here a 28x28
picture is a PNG of 28x28 pixels (a few hundred bytes) put inline as a data URL, and the browser enlarges it
without smoothing (``image-rendering: pixelated``), so it stays as crisp as a picture upscaled by whole
pixels. A whole grid of pictures is one HTML string: pages build it once per model or dataset view (cached,
see :mod:`ui.model_cache`), and every visitor is sent the same text. The grid wraps to the screen's width,
so a phone shows fewer columns.

Pure functions of NumPy arrays (Pillow encodes the PNGs); the pages show the HTML with
``st.html(as_is(html))``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape

import numpy as np
from PIL import Image

from ui.digits import to_pixels

# Streamlit's own image captions: small, muted; opacity rather than a colour, so a dark theme works too
CAPTION_STYLE = "font-size:0.8rem;line-height:1.25;opacity:0.65;text-align:center;overflow-wrap:anywhere;margin-top:2px"
PIXELATED = "image-rendering:pixelated;image-rendering:crisp-edges;display:block;margin:0 auto"


class AsIs:
    """HTML that ``st.html`` sends exactly as it is: ``st.html`` takes an object's ``_repr_html_`` before
    anything else, while a plain string is first dedented and stripped, a regular-expression scan of every
    character (some 0.8 ms of the server's CPU for a page of 60 thumbnails, on every script run). The HTML made
    here is one line that starts with ``<`` and ends with ``>``, which dedenting and stripping leave as it is."""

    __slots__ = ("html",)

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def as_is(html: str) -> AsIs:
    """``html`` (made here) for ``st.html``, sent without the dedent a plain string costs (:class:`AsIs`)."""
    return AsIs(html)


def png(pixels: np.ndarray, palette: np.ndarray | None = None) -> bytes:
    """A picture as PNG bytes, at its own size.

    Parameters
    ----------
    pixels : ndarray (h, w) or (h, w, 3) of uint8
        Grey or RGB values; with ``palette``, (h, w) indices into it.
    palette : ndarray (n, 3) of uint8, optional
        The colours of a palette picture (n <= 256): a third of an RGB picture's bytes before compression.
    """

    picture = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))
    if palette is not None:
        picture = picture.convert("P") if picture.mode != "L" else Image.frombytes("P", picture.size, picture.tobytes())
        picture.putpalette(np.asarray(palette, np.uint8).ravel().tolist())
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def data_url(pixels: np.ndarray, palette: np.ndarray | None = None) -> str:
    """A picture as a ``data:image/png;base64,...`` URL (see :func:`png`)."""
    return "data:image/png;base64," + base64.b64encode(png(pixels, palette)).decode("ascii")


def digit_url(image: np.ndarray) -> str:
    """A 28x28 digit (uint8 pixels, ink high, or the network's scaled inputs) as a data URL: dark ink on
    white paper, as the seed draws digits (see :mod:`ui.digits`)."""
    return data_url(255 - to_pixels(image))


def figure(url: str, caption: str | None, width: int) -> str:
    """One picture ``width`` screen pixels wide (square pixels kept crisp), with a caption under it."""
    text = escape(caption or "")
    caption_html = f'<figcaption style="{CAPTION_STYLE}">{text}</figcaption>' if caption else ""
    # never wider than its column: a picture wider than a narrow column would run into its neighbour's text
    return (f'<figure style="margin:0;width:{max(width, 56)}px;max-width:100%">'
            f'<img src="{url}" width="{width}" alt="{text}" style="{PIXELATED};width:{width}px;max-width:100%;'
            'height:auto">'
            f'{caption_html}</figure>')


def grid(urls: Sequence[str], captions: Sequence[str] | None, width: int, gap: int = 8) -> str:
    """Pictures side by side, wrapping onto new rows, each with its caption: one HTML string."""
    captions = captions if captions is not None else [None] * len(urls)
    figures = "".join(figure(url, caption, width) for url, caption in zip(urls, captions))
    return f'<div style="display:flex;flex-wrap:wrap;gap:{gap}px {gap - 2}px;align-items:flex-start">{figures}</div>'


def digit_grid(images: Sequence[np.ndarray] | np.ndarray, captions: Sequence[str] | None, width: int) -> str:
    """28x28 digits as one grid (see :func:`grid`)."""
    return grid([digit_url(image) for image in images], captions, width)



def pixel_values(image: np.ndarray, size: int = 336, label: str = "") -> str:
    """A 28x28 digit drawn large, each inked pixel hoverable for its row, column and value (0-255, ink high).

    The digit is one 28x28 PNG stretched without smoothing; over it, one transparent square per inked pixel
    whose tooltip (``title``) gives its value, and the paper around them says 0. Plain HTML (``st.html``
    drops SVG): the same hover as a chart of 784 marks, with no chart library for the browser to fetch, and
    a string the page can keep (about 15 kB for a typical digit, whose ink covers a fifth of the pixels).
    """
    pixels = to_pixels(image)
    cell = size / pixels.shape[1]
    cells = "".join(f'<div title="row {r}, column {c}: {int(pixels[r, c])}" style="position:absolute;'
                    f'left:{c * cell:.2f}px;top:{r * cell:.2f}px;width:{cell:.2f}px;height:{cell:.2f}px"></div>'
                    for r, c in zip(*np.nonzero(pixels)))
    text = escape(label)
    return (f'<div role="img" aria-label="{text}" title="paper: 0" style="position:relative;width:{size}px;'
            f'height:{size}px;max-width:100%">'
            f'<img src="{digit_url(pixels)}" alt="{text}" width="{size}" height="{size}" '
            f'style="{PIXELATED};width:{size}px;height:{size}px">{cells}</div>')
