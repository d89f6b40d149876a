"""The waiting bar every page uses (ui.waits): a progress bar whose text gives the time left."""

from streamlit.testing.v1 import AppTest


def bar_script() -> None:
    from ui import waits

    bar = waits.WaitBar("Mapping 500 test images with t-SNE", estimate=12.0)
    bar.update(0.25, "iteration 250 of 1,000")


def finished_script() -> None:
    import streamlit as st

    from ui import waits

    bar = waits.WaitBar("Scoring", estimate=3.0)
    bar.update(1.0)
    st.session_state["took"] = bar.done()


def test_the_bar_shows_its_progress_and_the_time_left():
    at = AppTest.from_function(bar_script).run()
    assert not at.exception
    (bar,) = at.get("progress")
    assert bar.proto.value == 25  # percent
    text = bar.proto.text
    assert text.startswith("Mapping 500 test images with t-SNE: iteration 250 of 1,000, about ")
    assert text.endswith("\u00a0s left")


def test_a_finished_bar_goes_and_says_how_long_it_took():
    at = AppTest.from_function(finished_script).run()
    assert not at.exception
    assert not at.get("progress")
    assert at.session_state["took"] >= 0
