"""ui.pictures: the HTML it makes is sent by st.html as it is (``as_is``), which must be what st.html would have
sent for the plain string (Streamlit dedents and strips a string body)."""

from __future__ import annotations

import numpy as np
from streamlit.string_util import clean_text
from streamlit.testing.v1 import AppTest

from ui import pictures


def _made_here() -> list[str]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 784), dtype=np.uint8)
    return [pictures.digit_grid(images, [f"{i}: a <{i}> & \"{i}\"" for i in range(5)], width=56),
            pictures.grid([pictures.digit_url(images[0])], None, width=84),
            pictures.figure(pictures.digit_url(images[1]), "caption", 140),
            pictures.pixel_values(images[2], size=336, label="Training image 3: a 5")]


def test_the_html_made_here_is_what_streamlit_would_send_for_the_string():
    for html in _made_here():
        assert clean_text(html) == html
        assert pictures.as_is(html)._repr_html_() is html


def _page(html: str) -> None:
    import streamlit as st

    from ui import pictures

    st.html(html)
    st.html(pictures.as_is(html))


def test_st_html_sends_the_same_body_for_as_is_and_for_the_string():
    for html in _made_here():
        at = AppTest.from_function(_page, args=(html,)).run()
        assert not at.exception
        plain, as_is = (element.proto.body for element in at.get("html"))
        assert as_is == plain == html
