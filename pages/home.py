"""Home: what this is, the network at a glance, the dataset's status, and which model is active."""

import streamlit as st

from ann.config import NetworkConfig
from ann.data.named import NAMED
from ui import datasets, diagram, shell, state

shell.page_start()

st.title("ANN Explorer")
st.markdown(
    "A neural network that learns to read handwritten digits, written from scratch in plain NumPy after "
    "Tariq Rashid's *Make Your Own Neural Network*. It learns from MNIST, 60,000 handwritten digits to train "
    "on and 10,000 more to test it with, or from Fashion-MNIST, Kuzushiji-MNIST or data of your own (pick it "
    "below or in the sidebar). **Dataset** shows the images and takes your own, **Train** trains a network of your "
    "design while you watch, **Evaluate** scores it on the test set, and on **Draw** you write a digit "
    "for it to read, and teach it when it reads wrong."
)

model = state.active_model()
config = model.config if model is not None else NetworkConfig()

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("The network at a glance")
    output = "sigmoid" if config.loss == "mse" else "softmax"
    st.markdown(diagram.network_svg(config.layer_sizes, config.activation, output), unsafe_allow_html=True)
    n_weights = sum(a * b for a, b in zip(config.layer_sizes[:-1], config.layer_sizes[1:]))
    st.caption(
        f"{' → '.join(f'{n:,}' for n in config.layer_sizes)} nodes: each of the 784 pixels feeds every "
        f"hidden node, each hidden node feeds every output node; {n_weights:,} weights"
        f"{' plus biases' if config.bias else ' and no biases, as in the seed'}. The output node with the "
        "highest activation is the network's answer."
        + ("" if model is not None else " (The seed's network: no model is active yet.)")
    )

with right:
    st.subheader("Dataset")
    tag = datasets.picker("home")
    st.caption(datasets.describe(tag))
    if tag.key in NAMED:
        folder = datasets.data_root()
        status = datasets.named_files_status(key=tag.key, root=folder)
        where = datasets.folder_of(tag.key, folder)
        if status["complete"]:
            # all three named sets are MNIST's size
            st.success(f"{tag.title} is ready: 60,000 training and 10,000 test images in `{where}`.",
                       icon=":material/check_circle:")
        elif status["corrupt"]:
            st.error(f"Corrupt {tag.title} files in `{where}`: {', '.join(status['corrupt'])}. Delete them, then "
                     "download again.")
        else:
            st.warning(f"{tag.title} is not downloaded yet ({len(status['missing'])} of 4 files missing). "
                       "Dataset, Train and Evaluate need it; Draw works without it.",
                       icon=":material/cloud_download:")
            datasets.download_panel(tag.key,
                                    widget_key="download_home" if tag.digits else f"download_home_{tag.key}")
    else:
        st.success(f"{tag.title}, your own data, is ready: {', '.join(tag.class_names[:6])}"
                   f"{', ...' if tag.n_classes > 6 else ''}.", icon=":material/check_circle:")
    st.page_link("pages/dataset.py", label="Browse it, or upload your own data", icon=":material/grid_view:")

    st.subheader("Active model")
    model = state.model_picker()
    if model is None:
        state.show_no_model()
    else:
        headline, sentence = state.describe_model(model)
        st.markdown(f"**{headline}**")
        st.caption(sentence)
        problem = datasets.model_mismatch(model)
        if problem:
            st.warning(problem, icon=":material/dataset:")
    st.page_link("pages/draw.py", label="Draw a digit", icon=":material/draw:")
    st.page_link("pages/train.py", label="Train a network", icon=":material/model_training:")
    st.page_link("pages/evaluate.py", label="See its scorecard", icon=":material/fact_check:")
