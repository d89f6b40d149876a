"""Dataset: browse the active dataset's training and test images, one of them up close, counts and mean
images; upload data of your own (``ui.datasets.upload_panel``) and manage the workspace's own sets.

What shows a dataset depends on that dataset only, so it is made once per server and shared by every visitor
looking at the same set (``st.cache_data`` keyed on the dataset's key: an own set's key is a digest of its
content; ``ui.dataset_views``): a page of thumbnails is one grid of small PNGs, an image up close one PNG with
its pixels' values on hover. Only the open tab is computed, and the seed's CSV record only when opened.
"""

import math

import numpy as np
import streamlit as st

from ann.data.named import NAMED
from ann.data.own import OwnDataError
from ann.service.records import RunStateError
from ui import charts, datasets, digits, pictures, shell, workspace
from ui.dataset_views import PER_PAGE, caption, class_statistics, in_view, thumbnails, up_close

shell.page_start()

st.title("Dataset")
datasets.show_upload_result()
# Tabs that rerun the page when switched, so only the open one is computed and sent.
browse, statistics, own = st.tabs(["Browse", "Counts and mean images", "Your own data"], key="ds_tab",
                                  on_change="rerun")

if own.open:
    with own:
        st.markdown("Train and evaluate on data of your own: the seed's CSV, a pair of IDX files, or images in one "
                    "folder per class (any size and colour: each is turned into a 28x28 input as a drawing is, "
                    "cropped to its ink, fitted into 20x20 and centred). It is kept privately for this browser's "
                    "workspace on this server, where the training workers read it; nobody else sees it.")
        datasets.upload_panel()
        sets = datasets.own_sets()
        if sets:
            st.markdown("**Your datasets on this server**")
            for meta in sets:
                key = meta["key"]
                name_col, delete_col = st.columns([5, 1], vertical_alignment="center")
                counts = f"{int(meta.get('train', 0)):,} training and {int(meta.get('test', 0)):,} test images"
                active = " (active)" if key == datasets.active_key() else ""
                name_col.markdown(f"**{meta['title']}**{active}: {len(meta['classes'])} classes "
                                  f"({', '.join(meta['classes'][:6])}{', ...' if len(meta['classes']) > 6 else ''})"
                                  f"; {counts}.")
                if delete_col.button("Delete", key=f"ds_delete_{key}", icon=":material/delete:"):

                    try:
                        workspace.store().delete_dataset(workspace.workspace_key(), key)
                    except (RunStateError, OwnDataError) as exc:
                        st.error(f"{meta['title']} was not deleted: {exc}")
                    else:
                        if datasets.active_key() == key:
                            datasets.set_active("mnist")
                        st.rerun()
            st.caption("Your datasets go after 30 days unused; the ones your runs use stay as long as the runs.")

tag = datasets.active_tag()
if not (browse.open or statistics.open):
    st.stop()  # the own data tab is all there is to show
with browse if browse.open else statistics:
    data = datasets.require("The Dataset page")  # offers the download and stops the page when it is missing

spec = NAMED.get(tag.key)
noun = datasets.noun(tag)
n_classes = tag.n_classes
# widget keys name the dataset (its classes differ); MNIST keeps the keys it always had
prefix = "" if tag.key == "mnist" else f"{tag.key}_"
SETS = {"Training": data.train, "Test": data.test}
about = (f"{spec.about} " if spec is not None else f"Your own data: {data.note}. " if data.note else "")
intro = (f"**{tag.title}**: {about}28x28 grey images, {len(data.train):,} to train on and {len(data.test):,} to "
         f"test with, {n_classes} classes. Pixels are 0 (paper) to 255 (ink); shown here dark on white, as the "
         "seed draws them.")


def name(index: int) -> str:
    return datasets.class_label(tag, index)


def step(pick: str, positions: list[int], by: int) -> None:
    """Move the image up close ``by`` places through the page's images (``positions``: their indices)."""
    at = positions.index(st.session_state[pick]) + by
    st.session_state[pick] = positions[min(max(at, 0), len(positions) - 1)]


if browse.open:
    with browse:
        st.caption(intro)
        left, right = st.columns([1, 3])
        set_name = left.segmented_control("Set", list(SETS), default="Training", required=True, key="ds_set",
                                          persist_state="session")
        if tag.digits:
            shown_class = right.segmented_control("Digit", ["All", *range(n_classes)], default="All",
                                                  required=True, key="ds_digit", persist_state="session",
                                                  wrap=True)
        else:
            shown_class = right.selectbox("Class", ["All", *range(n_classes)], key=f"ds_class_{tag.key}",
                                          format_func=lambda v: "All" if v == "All" else name(v))
        split = SETS[set_name]
        indices = in_view(split, shown_class)
        n_pages = max(math.ceil(len(indices) / PER_PAGE), 1)
        what = "images" if shown_class == "All" else f"images of {tag.class_names[shown_class]}"
        st.caption(f"{len(indices):,} {what} in the {set_name.lower()} set, {PER_PAGE} a page.")
        # The key names the filter, so changing it starts again at page 1.
        page = st.pagination(n_pages, max_visible_pages=9, key=f"ds_page_{prefix}{set_name}_{shown_class}")
        shown = indices[(page - 1) * PER_PAGE:page * PER_PAGE]
        st.html(pictures.as_is(thumbnails(dataset_key=tag.key, set_name=set_name, shown_class=shown_class,
                                          page=page, _data=data, _tag=tag)))

        if len(shown):
            st.subheader("One image up close")
            # Previous and Next through the page's images (the buttons' script is one the app loads anyway)
            # rather than a slider, whose scripts a first look would fetch for this picker alone
            pick = f"ds_pick_{prefix}{set_name}_{shown_class}_{page}"  # the image's index in the set
            positions = shown.tolist()
            if st.session_state.get(pick) not in positions:
                st.session_state[pick] = positions[0]
            index = st.session_state[pick]
            at = positions.index(index)
            stepper = st.container(horizontal=True, vertical_alignment="center", key="ds_stepper")
            # the arrow keys too, as on a slider (each button shows its key)
            stepper.button("Previous", key="ds_previous", disabled=at == 0, on_click=step, args=(pick, positions, -1),
                           shortcut="Left")
            stepper.button("Next", key="ds_next", disabled=at == len(positions) - 1, on_click=step,
                           args=(pick, positions, 1), shortcut="Right")
            stepper.markdown(f"Image {at + 1} of {len(positions)} on this page, in the order shown above")
            image, label = split.images[index], int(split.labels[index])
            big, about_col = st.columns([2, 3], gap="large")
            with big:
                st.html(pictures.as_is(up_close(dataset_key=tag.key, set_name=set_name, index=index,
                                                _data=data, _tag=tag)))
            with about_col:
                st.markdown(f"**{set_name} image {digits.image_number(index)}: {caption(tag, split, index)}**")
                st.caption(f"{np.count_nonzero(image)} of 784 pixels carry ink; the brightest is "
                           f"{int(image.max())}. Hover a pixel for its row, column and value (0-255); the paper "
                           "around the ink is 0.")
            record = st.expander("Its record in the seed's CSV format", key="ds_record", on_change="rerun")
            if record.open:
                with record:
                    st.caption("The label, then the 784 pixels row by row:")
                    st.code(digits.csv_record(label, image), language=None, wrap_lines=True)

if statistics.open:
    with statistics:

        train_counts, _ = class_statistics(dataset_key=tag.key, set_name="Training", _data=data, _tag=tag)
        test_counts, _ = class_statistics(dataset_key=tag.key, set_name="Test", _data=data, _tag=tag)
        st.subheader(f"Images per {noun}")
        chart_col, table_col = st.columns([3, 1], gap="large")
        chart_col.altair_chart(charts.digit_counts(train_counts, test_counts, class_names=tag.class_names,
                                                   noun=noun), width="stretch")
        table_col.dataframe(
            {noun: list(tag.class_names), "training": train_counts.tolist(), "test": test_counts.tolist()},
            hide_index=True, width="content")
        st.subheader(f"The mean image of each {noun}")
        mean_set = st.segmented_control("Set", list(SETS), default="Training", required=True, key="ds_mean_set")
        _, means = class_statistics(dataset_key=tag.key, set_name=mean_set, _data=data, _tag=tag)
        st.html(pictures.as_is(means))
        st.caption(f"Each pixel averaged over every image of the {noun}: what all of its images have in common.")
