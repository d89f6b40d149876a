"""Dataset: browse MNIST's training and test images, one of them up close, counts and mean images.

Everything here depends on the dataset only, so it is made once per server and shared by every visitor
(``st.cache_data``): a page of thumbnails is one grid of small PNGs, an image up close one PNG with its
pixels' values on hover. The second tab (counts and mean images) and the seed's CSV record are computed
only when opened.
"""

import math

import numpy as np
import streamlit as st

from ui import digits, pictures, shell, state

shell.page_start()

PER_PAGE = 60

st.title("Dataset")
mnist = state.require_mnist("The Dataset page")
st.caption("MNIST: 28x28 grey images of handwritten digits, 60,000 to train on and 10,000 to test with. "
           "Pixels are 0 (paper) to 255 (ink); shown here dark on white, as the seed draws them.")

SETS = {"Training": mnist.train, "Test": mnist.test}


def in_view(set_name: str, digit: int | str) -> np.ndarray:
    """The indices of the set's images of ``digit`` ("All": every image), in file order."""
    split = SETS[set_name]
    return np.arange(len(split)) if digit == "All" else np.flatnonzero(split.labels == digit)


@st.cache_data(show_spinner=False, max_entries=256)
def thumbnails(folder: str, set_name: str, digit: int | str, page: int) -> str:
    """One page of thumbnails with their numbers and labels, as one grid (the same for every visitor)."""
    split = SETS[set_name]
    shown = in_view(set_name, digit)[(page - 1) * PER_PAGE:page * PER_PAGE]
    return pictures.digit_grid(split.images[shown], [f"#{i}: {split.labels[i]}" for i in shown], width=56)


@st.cache_data(show_spinner=False, max_entries=256)
def up_close(folder: str, set_name: str, index: int) -> str:
    """One image drawn large, every pixel's value on hover."""
    split = SETS[set_name]
    return pictures.pixel_values(split.images[index], size=336,
                                 label=f"{set_name} image #{index}: a {split.labels[index]}")


@st.cache_data(show_spinner=False, max_entries=4)
def digit_statistics(folder: str, set_name: str) -> tuple[np.ndarray, str]:
    """Images per digit (10,) and the mean image of each digit as one grid, for one set."""
    split = SETS[set_name]
    counts = np.bincount(split.labels, minlength=10)
    # mean(dtype=float64) accumulates without a float copy of the 6,000 images of a digit
    means = [split.images[split.labels == d].mean(axis=0, dtype=np.float64).round().astype(np.uint8)
             for d in range(10)]
    return counts, pictures.digit_grid(means, [f"mean {d}" for d in range(10)], width=84)


folder = state.data_folder()
# Tabs that rerun the page when switched, so only the open one is computed and sent.
browse, statistics = st.tabs(["Browse", "Counts and mean images"], key="ds_tab", on_change="rerun")

if browse.open:
    with browse:
        left, right = st.columns([1, 3])
        set_name = left.segmented_control("Set", list(SETS), default="Training", required=True, key="ds_set",
                                          persist_state="session")
        digit = right.segmented_control("Digit", ["All", *range(10)], default="All", required=True,
                                        key="ds_digit", persist_state="session")
        split = SETS[set_name]
        indices = in_view(set_name, digit)
        n_pages = max(math.ceil(len(indices) / PER_PAGE), 1)
        what = "images" if digit == "All" else f"images of {digit}"
        st.caption(f"{len(indices):,} {what} in the {set_name.lower()} set, {PER_PAGE} a page.")
        # The key names the filter, so changing it starts again at page 1.
        page = st.pagination(n_pages, max_visible_pages=9, key=f"ds_page_{set_name}_{digit}")
        shown = indices[(page - 1) * PER_PAGE:page * PER_PAGE]
        st.html(thumbnails(folder, set_name, digit, page))

        st.subheader("One image up close")
        index = st.columns([1, 2])[0].selectbox(
            "Image", shown.tolist(), key=f"ds_pick_{set_name}_{digit}_{page}",
            format_func=lambda i: f"#{i}, a {split.labels[i]}",
            help="Any image of this page. Its number is its position in the set's file.")
        image, label = split.images[index], int(split.labels[index])
        big, about = st.columns([2, 3], gap="large")
        with big:
            st.html(up_close(folder, set_name, index))
        with about:
            st.markdown(f"**{set_name} image #{index}: a {label}**")
            st.caption(f"{np.count_nonzero(image)} of 784 pixels carry ink; the brightest is {int(image.max())}. "
                       "Hover a pixel for its row, column and value (0-255); the paper around the digit is 0.")
        record = st.expander("Its record in the seed's CSV format", key="ds_record", on_change="rerun")
        if record.open:
            with record:
                st.caption("The label, then the 784 pixels row by row:")
                st.code(digits.csv_record(label, image), language=None, wrap_lines=True)

if statistics.open:
    with statistics:
        from ui import charts  # altair and pandas: only for this tab

        train_counts, _ = digit_statistics(folder, "Training")
        test_counts, _ = digit_statistics(folder, "Test")
        st.subheader("Images per digit")
        chart_col, table_col = st.columns([3, 1], gap="large")
        chart_col.altair_chart(charts.digit_counts(train_counts, test_counts), width="stretch")
        table_col.dataframe(
            {"digit": list(range(10)), "training": train_counts.tolist(), "test": test_counts.tolist()},
            hide_index=True, width="content")
        st.subheader("The mean image of each digit")
        mean_set = st.segmented_control("Set", list(SETS), default="Training", required=True, key="ds_mean_set")
        _, means = digit_statistics(folder, mean_set)
        st.html(means)
        st.caption("Each pixel averaged over every image of the digit: what all the 3s have in common, say.")
