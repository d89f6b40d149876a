"""Dataset: browse MNIST's training and test images, one of them up close, counts and mean images."""

import math

import numpy as np
import streamlit as st

from ui import charts, digits, shell, state

shell.page_start()

PER_PAGE = 60

st.title("Dataset")
mnist = state.require_mnist("The Dataset page")
st.caption("MNIST: 28x28 grey images of handwritten digits, 60,000 to train on and 10,000 to test with. "
           "Pixels are 0 (paper) to 255 (ink); shown here dark on white, as the seed draws them.")

SETS = {"Training": mnist.train, "Test": mnist.test}


@st.cache_data(show_spinner=False)
def digit_statistics(set_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Images per digit (10,) and the mean image of each digit (10, 784) float32, for one set."""
    split = SETS[set_name]
    counts = np.bincount(split.labels, minlength=10)
    # mean(dtype=float64) accumulates without a float copy of the 6,000 images of a digit
    means = np.stack([split.images[split.labels == d].mean(axis=0, dtype=np.float64) for d in range(10)])
    return counts, means.astype(np.float32)


browse, statistics = st.tabs(["Browse", "Counts and mean images"])

with browse:
    left, right = st.columns([1, 3])
    set_name = left.segmented_control("Set", list(SETS), default="Training", required=True, key="ds_set",
                                      persist_state="session")
    digit = right.segmented_control("Digit", ["All", *range(10)], default="All", required=True, key="ds_digit",
                                    persist_state="session")
    split = SETS[set_name]
    indices = np.arange(len(split)) if digit == "All" else np.flatnonzero(split.labels == digit)
    n_pages = max(math.ceil(len(indices) / PER_PAGE), 1)
    what = "images" if digit == "All" else f"images of {digit}"
    st.caption(f"{len(indices):,} {what} in the {set_name.lower()} set, {PER_PAGE} a page.")
    # The key names the filter, so changing it starts again at page 1.
    page = st.pagination(n_pages, max_visible_pages=9, key=f"ds_page_{set_name}_{digit}")
    shown = indices[(page - 1) * PER_PAGE:page * PER_PAGE]
    st.image([digits.digit_image(split.images[i], scale=2) for i in shown],
             caption=[f"#{i}: {split.labels[i]}" for i in shown], width=56)

    st.subheader("One image up close")
    index = st.columns([1, 2])[0].selectbox("Image", shown.tolist(), key=f"ds_pick_{set_name}_{digit}_{page}",
                         format_func=lambda i: f"#{i}, a {split.labels[i]}",
                         help="Any image of this page. Its number is its position in the set's file.")
    image, label = split.images[index], int(split.labels[index])
    big, grid = st.columns([1, 2], gap="large")
    with big:
        st.image(digits.digit_image(image, scale=10), caption=f"{set_name} image #{index}: a {label}")
        st.caption(f"{np.count_nonzero(image)} of 784 pixels carry ink; the brightest is {int(image.max())}.")
    with grid:
        st.altair_chart(charts.pixel_heatmap(image), width="content")
        st.caption("Hover a cell for its value (row, column, 0-255).")
    st.markdown("Its record in the seed's CSV format (the label, then the 784 pixels row by row):")
    st.code(digits.csv_record(label, image), language=None, wrap_lines=True)

with statistics:
    train_counts, _ = digit_statistics("Training")
    test_counts, _ = digit_statistics("Test")
    st.subheader("Images per digit")
    chart_col, table_col = st.columns([3, 1], gap="large")
    chart_col.altair_chart(charts.digit_counts(train_counts, test_counts), width="stretch")
    table_col.dataframe(
        {"digit": list(range(10)), "training": train_counts.tolist(), "test": test_counts.tolist()},
        hide_index=True, width="content")
    st.subheader("The mean image of each digit")
    mean_set = st.segmented_control("Set", list(SETS), default="Training", required=True, key="ds_mean_set")
    _, means = digit_statistics(mean_set)
    st.image([digits.digit_image(m.round().astype(np.uint8), scale=3) for m in means],
             caption=[f"mean {d}" for d in range(10)], width=84)
    st.caption("Each pixel averaged over every image of the digit: what all the 3s have in common, say.")
