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


def quick_script() -> None:
    import streamlit as st

    from ui import waits

    bar = waits.WaitBar("Scoring")  # no estimate: drawn only once the work has taken SHOW_AFTER
    bar.update(0.5)
    bar.update(1.0)
    st.session_state["took"] = bar.done()


def slow_script() -> None:
    import time

    from ui import waits

    bar = waits.WaitBar("Scoring", estimate=0.1)  # estimated short, but it takes longer: drawn then
    bar.update(0.1)
    time.sleep(waits.SHOW_AFTER + 0.1)
    bar.update(0.4, "4 of 10")


def test_a_quick_wait_draws_no_bar_and_a_long_one_draws_it_once_it_is_long():
    quick = AppTest.from_function(quick_script).run()
    assert not quick.exception
    assert not quick.get("progress")
    assert quick.session_state["took"] < 0.5  # the test needs the work to have been quick

    slow = AppTest.from_function(slow_script).run()
    assert not slow.exception
    (bar,) = slow.get("progress")
    assert bar.proto.value == 40
    assert bar.proto.text.startswith("Scoring: 4 of 10")


def late_script() -> None:
    import time

    import streamlit as st

    from ui import waits

    bar = waits.WaitBar("Scoring")  # drawn late: still above what the page drew after making it
    st.markdown("below the bar")
    time.sleep(waits.SHOW_AFTER + 0.1)
    bar.update(0.5)


def test_a_bar_drawn_late_keeps_its_place_above_what_followed():
    at = AppTest.from_function(late_script).run()
    assert not at.exception
    kinds = [node.type for node in at.main.children.values()]
    assert kinds.index("progress") < kinds.index("markdown"), kinds
