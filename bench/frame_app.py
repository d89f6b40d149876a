"""The app's frame around hello-world's content, for ``bench/frame_cost.py``: what the frame alone costs.

The same page configuration, the eleven pages with their icons in the navigation (at the app's addresses,
with the titles ``bench/classroom.py`` waits for), the app's shared CSS, the dataset picker's popover and
radio and the active model's caption in the sidebar; each page shows hello-world's content (a title, a line,
a button). No NumPy, no run store, none of the pages' own content.
"""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ui import phone  # noqa: E402 -- the app's shared CSS (no NumPy)

PAGES = [  # (title, heading, icon, address)
    ("Home", "ANN Explorer", ":material/home:", ""), ("Dataset", "Dataset", ":material/grid_view:", "dataset"),
    ("Train", "Train", ":material/model_training:", "train"), ("Runs", "Runs", ":material/table_chart:", "runs"),
    ("Evaluate", "Evaluate", ":material/fact_check:", "evaluate"), ("Draw", "Draw", ":material/draw:", "draw"),
    ("Inside", "Inside the network", ":material/neurology:", "inside"),
    ("Experiments", "Experiments", ":material/science:", "experiments"),
    ("One step by hand", "One step by hand", ":material/calculate:", "step"),
    ("Hidden-layer map", "Hidden-layer map", ":material/scatter_plot:", "map"),
    ("Robustness lab", "Robustness lab", ":material/shield:", "robustness"),
]


def hello(heading: str):
    def page() -> None:
        st.title(heading)
        st.write("A line of text.")
        st.button("A button")
    return page


st.set_page_config(page_title="ANN Explorer", page_icon=":material/neurology:", layout="wide")
page = st.navigation([st.Page(hello(heading), title=title, icon=icon, url_path=path or "home", default=not path)
                      for title, heading, icon, path in PAGES])
st.html(phone.CSS)
with st.sidebar:
    with st.popover("Dataset: MNIST", icon=":material/dataset:", key="dataset_button", on_change="rerun",
                    width="stretch"):
        st.radio("Dataset", ["MNIST", "Fashion-MNIST", "Kuzushiji-MNIST"], key="dataset")
    st.caption("**Active model**  \nMLP 784-800-800-10 (shipped).  \nReads 99.36% of the test images.")
page.run()
