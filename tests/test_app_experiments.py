"""AppTest tests of the Experiments and Inside pages, and of the Train page's shareable links.

Headless and in-process, like tests/test_app.py: the pages read the real MNIST files (ANN_DATA_DIR points at
them), the shipped data/pretrained.npz and the shipped experiment results in data/. Live experiments run on
500 records for one or two epochs, a second or two each. The sentence-writing (ui.findings) and the link
parsing (ui.setup_link) are also tested directly, on small made-up results.
"""

from __future__ import annotations

import numpy as np
import pytest
from apptest_helpers import AppTest, figures, no_exceptions, open_page, rerun_until, texts  # noqa: F401


@pytest.fixture(autouse=True)
def mnist_folder(monkeypatch, mnist_dir):
    """The pages read the real MNIST files (tests/conftest.py finds them)."""
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))


def charts(at: AppTest) -> list:
    return at.get("vega_lite_chart")


def image_captions(at: AppTest) -> str:
    """Every picture's caption: the pages' grids and figures (ui.pictures) and any st.image."""
    grids = [caption for element in at.html for caption, _ in figures(element.value)]
    return "\n".join(grids + [caption for element in at.get("image") for caption in element.captions])


def open_sweeps(at: AppTest) -> AppTest:
    """Open the Experiments page's Sweeps tab (a click on it), which is built only when open."""
    at.session_state["ex_tab"] = "Sweeps"
    return at.run()


def open_inside_views(at: AppTest) -> None:
    """Open Inside's views 2 and 4 (a click on each expander), which are computed only when open."""
    at.session_state["in_follow"] = True
    at.session_state["in_spread"] = True
    at.run()


def query(at: AppTest) -> dict[str, str]:
    """The page's URL query parameters, one value each."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


# --------------------------------------------------------------------------- Experiments


def test_experiments_shows_the_shipped_results_and_what_they_say():
    at = open_page("experiments")
    no_exceptions(at)
    assert at.title[0].value == "Experiments"
    assert [tab.label for tab in at.tabs] == ["Error rules", "Sweeps"]
    # the shipped error rules: one drawing (SVG), a line and a point per epoch for each rule shown, each
    # point naming its figure on hover; no Vega-Lite chart (the Sweeps tab waits to be opened)
    assert not charts(at)
    (drawing,) = [m.value for m in at.markdown if "<svg" in m.value]
    # zoomed in (the default): the rule that did not learn (equal split, about 11%) is left out of the view
    assert drawing.count("<polyline") == 3 and drawing.count("<circle") == 3 * 5
    assert "split equally among the N links" in drawing  # still in the legend
    assert "Wᵀ·E, epoch 5: test accuracy 96.76%" in drawing  # data/experiments_error_rules.json's last epoch
    markdown = texts(at.markdown)
    assert "**Our figures** (all 60,000 training records" in markdown
    assert "agree with the seed" in markdown  # the error rules: blue and green both do well
    assert "the best rate is" not in markdown
    assert "What the seed concluded" in texts(at.info)
    assert "Precomputed on full MNIST" in texts(at.caption)

    open_sweeps(at)
    no_exceptions(at)
    # learning rate, hidden nodes, and the epochs sweeps (with and without rotations)
    assert len(charts(at)) >= 4
    markdown = texts(at.markdown)
    assert "the best rate is" in markdown and "test accuracy peaks at epoch" in markdown
    assert "agree with the seed" not in markdown  # the error rules' tab is closed now
    assert "Precomputed on full MNIST" in texts(at.caption)


def test_experiments_without_the_shipped_files_still_offers_live_runs(monkeypatch, tmp_path):
    from ui import findings

    broken = tmp_path / "experiments_sweeps.json"
    broken.write_text('{"kind": "sweeps", "format_version": 1}')
    monkeypatch.setattr(findings, "ERROR_RULES_PATH", tmp_path / "experiments_error_rules.json")
    monkeypatch.setattr(findings, "SWEEPS_PATH", broken)
    at = open_page("experiments")
    no_exceptions(at)
    assert "experiments_error_rules.json` is not there yet" in texts(at.info)
    assert not charts(at) and not at.button(key="ex_r_start").disabled
    open_sweeps(at)
    no_exceptions(at)
    info = texts(at.info)
    assert "experiments_sweeps.json` could not be read" in info and "created" in info
    assert not charts(at) and not at.button(key="ex_s_start").disabled


def test_experiments_live_error_rules_run_on_a_subset():
    at = open_page("experiments")
    at.select_slider(key="ex_r_records").set_value(500)
    at.slider(key="ex_r_epochs").set_value(2)
    at.select_slider(key="ex_r_hidden").set_value(25)
    at.run()
    assert "4 rules x 500 records x 2 epochs" in texts(at.caption)
    # measured in the background (four runs' calibrations and a sweep's start), then said
    rerun_until(at, lambda a: "4 rules x 500 records x 2 epochs: about " in texts(a.caption), "the estimate", 60)
    assert "at this server's speed now" in texts(at.caption)
    at.button(key="ex_r_start").click().run()
    no_exceptions(at)
    result = at.session_state["ex_live_rules"]
    assert result["status"] == "finished" and result["records"] == 500
    assert [s["rule"] for s in result["series"]] == ["transpose", "transpose_normalized", "equal", "proportional"]
    assert all(s["epochs"] == [1, 2] for s in result["series"])
    assert result["config"]["hidden_nodes"] == [25] and result["config"]["rotate"] == 0.0
    assert "**Your run: 500 training records**" in texts(at.markdown)
    assert "**Our figures** (the first 500 training records, 2 epochs)" in texts(at.markdown)
    assert len(charts(at)) == 1  # this run's (the shipped error rules are a drawing; the Sweeps tab is closed)
    assert not at.button(key="ex_r_start").disabled and at.button(key="ex_r_stop").disabled


def test_experiments_live_sweeps_learning_rate_and_epochs():
    at = open_sweeps(open_page("experiments"))
    at.segmented_control(key="ex_s_parameter").set_value("learning_rate").run()
    at.multiselect(key="ex_s_lr_values").set_value([0.3, 0.1])
    at.select_slider(key="ex_s_records").set_value(500)
    at.slider(key="ex_s_epochs").set_value(1)
    at.run()
    at.button(key="ex_s_start").click().run()
    no_exceptions(at)
    sweep = at.session_state["ex_live_sweeps"]["learning_rate"]
    assert sweep["status"] == "finished" and sweep["values"] == [0.1, 0.3]  # run in increasing order
    assert all(0.0 < a <= 1.0 for a in sweep["final_test_accuracy"])
    assert "**Your run: learning rate, 500 training records**" in texts(at.markdown)

    at.segmented_control(key="ex_s_parameter").set_value("epochs").run()
    at.slider(key="ex_s_max_epochs").set_value(3).run()
    at.button(key="ex_s_start").click().run()
    no_exceptions(at)
    epochs = at.session_state["ex_live_sweeps"]["epochs"]
    assert epochs["values"] == [1, 2, 3] and epochs["train_eval_records"] == 500
    assert len(epochs["series"][0]["train_accuracy"]) == 3
    assert "the test accuracy peaks at epoch" in texts(at.markdown)


def test_experiments_sweep_needs_a_value():
    at = open_sweeps(open_page("experiments"))
    at.segmented_control(key="ex_s_parameter").set_value("hidden_nodes").run()
    at.multiselect(key="ex_s_hidden_values").set_value([]).run()
    no_exceptions(at)
    assert "Pick at least one value" in texts(at.warning)
    assert at.button(key="ex_s_start").disabled


def test_an_interrupted_live_run_keeps_what_finished():
    """Stop interrupts the script mid-run; the next run marks the result stopped and shows its parts."""
    at = open_page("experiments")
    series = {"rule": "transpose", "epochs": [1, 2], "test_accuracy": [0.8, 0.85], "train_loss": [0.1, 0.08],
              "seconds": [1.0, 1.0]}
    at.session_state["ex_live_rules"] = {
        "kind": "error_rules", "config": {"hidden_nodes": [200], "epochs": 2}, "records": 1000,
        "test_records": 10_000, "series": [series], "stopped": False, "seconds_total": 2.0, "status": "running"}
    at.run()
    no_exceptions(at)
    assert at.session_state["ex_live_rules"]["status"] == "stopped"
    assert "Stopped after 2\u00a0s" in texts(at.caption)
    assert "**Your run: 1,000 training records**" in texts(at.markdown)


def grid_result(failed: bool = True) -> dict:
    """A small grid result as python -m ann sweep writes it: 2 learning rates x 2 seeds, one run failed."""
    runs = []
    for index, (lr, seed) in enumerate([(0.1, 80), (0.1, 81), (0.3, 80), (0.3, 81)]):
        run = {"index": index, "values": {"learning_rate": lr}, "seed": seed, "status": "finished", "error": None,
               "epochs": [1, 2], "test_accuracy": [0.9, 0.92 + lr / 10], "train_loss": [0.2, 0.1],
               "seconds": [1.0, 1.0], "final_test_accuracy": 0.92 + lr / 10, "worker": "vm:1"}
        if failed and index == 3:
            run.update(status="failed", error="RuntimeError: out of luck", epochs=[], test_accuracy=[],
                       train_loss=[], seconds=[], final_test_accuracy=None)
        runs.append(run)
    return {"kind": "grid", "format_version": 1, "created": "2026-12-02T18:00:00+00:00",
            "parameters": [{"name": "learning_rate", "values": [0.1, 0.3]}], "seeds": [80, 81],
            "config": {"epochs": 2, "hidden_nodes": [200]}, "records": 1000, "test_records": 10000,
            "backend": "processes", "workers": 2, "scheduler": None, "stopped": False, "failed": int(failed),
            "seconds_total": 6.0, "runs": runs}


def test_a_sweep_results_file_opened_on_the_page_shows_its_chart_finding_and_runs():
    """What the file uploader leaves in the session (AppTest cannot upload): a grid from python -m ann sweep."""
    import json

    from ui.findings import read_results_file  # what the page calls with an upload

    at = open_sweeps(open_page("experiments"))  # the results file opens on the Sweeps tab
    loaded = read_results_file("sweep.json", json.dumps(grid_result()).encode())
    assert "result" in loaded
    at.session_state["ex_file_result"] = loaded
    at.run()
    no_exceptions(at)
    text = texts(at.markdown)
    assert "**sweep.json: 4 runs over learning rate, 2 seeds, 1,000 training records**" in text
    assert "**Best**: learning rate 0.3, 95.00% on the test set" in text and "of 2 settings tried" in text
    assert "**1 run failed**: run 4 (RuntimeError: out of luck)" in text
    assert "Trained on 2 local processes in 6\u00a0s." in texts(at.caption)
    table = at.dataframe[0].value
    assert list(table["status"]) == ["finished", "finished", "finished", "failed"]


def test_a_bad_results_file_is_named_with_the_problem():
    from ui.findings import read_results_file

    assert "not a JSON results file" in read_results_file("x.json", b"{not json")["error"]
    broken = grid_result()
    broken["runs"][0]["status"] = "lost"
    import json

    message = read_results_file("grid.json", json.dumps(broken).encode())["error"]
    assert "grid.json: runs[0]: status 'lost' is not one of finished, failed, stopped" in message


def test_grid_charts_draw_numbers_layers_and_empty_grids():
    from ui import experiments_charts as ec

    assert ec.grid_chart(grid_result()).to_dict()["layer"][0]["encoding"]["x"]["field"] == "learning_rate_number"
    layered = grid_result(failed=False)
    for run, hidden in zip(layered["runs"], ([100], [300, 100], [100], [300, 100])):
        run["values"] = {"hidden_nodes": hidden, "learning_rate": run["values"]["learning_rate"]}
    layered["parameters"] = [{"name": "hidden_nodes", "values": [[100], [300, 100]]},
                             {"name": "learning_rate", "values": [0.1, 0.3]}]
    spec = ec.grid_chart(layered).to_dict()
    assert spec["layer"][1]["encoding"]["x"]["field"] == "hidden_nodes"  # layers as labels: 100, 300x100
    empty = {**grid_result(), "runs": []}
    ec.grid_chart(empty).to_dict()
    assert len(ec.grid_table(empty)) == 0


@pytest.mark.parametrize("values,align", [([25, 50, 100, 200, 400], "right"), ([100, 200, 400, 800, 1600], "left")])
def test_the_seeds_choice_is_labelled_on_the_side_with_room(values, align):
    """'seed: 200' near the right end of the axis was cut off by the chart's edge: it turns to the left there."""
    from ui import experiments_charts as ec

    result = {"parameter": "hidden_nodes", "values": values, "final_test_accuracy": [0.95] * len(values)}
    label = next(layer["mark"] for layer in ec.sweep_chart(result).to_dict()["layer"]
                 if layer["mark"].get("type") == "text" and layer["mark"].get("color") == ec.SEED_MARK)
    assert label["align"] == align and label["dx"] == (-4 if align == "right" else 4)


# --------------------------------------------------------------------------- Inside


def test_inside_shows_weights_an_image_backquery_and_histograms(monkeypatch, mnist):
    monkeypatch.setenv("ANN_DEFAULT_MODEL", "seed")  # the seed's one hidden layer, whatever the app's default
    from ann.lab.inside import ascent_images, backquery_all, hidden_weight_images
    from ui import digits, inside_charts, state

    at = open_page("inside")
    no_exceptions(at)
    assert [s.value for s in at.subheader] == ["1. What each hidden node looks for", "3. The network run backwards"]
    assert [e.label for e in at.expander] == ["**2. One image through the network**",
                                              "**4. How the weights are spread**"]
    assert not charts(at) and "the network reads" not in texts(at.markdown)  # views 2 and 4 wait to be opened
    net = state._read_pretrained(str(state.PRETRAINED_PATH), state.PRETRAINED_PATH.stat().st_mtime).network
    weight_grid = figures(at.html[0].value)
    assert len(weight_grid) == 64 and weight_grid[0][0] == "node 0"
    first = hidden_weight_images(net, 0)[:64]  # each picture is its node's 784 weights in the diverging colours
    expected = inside_charts.diverging_palette()[inside_charts.diverging_indices(
        first, inside_charts.symmetric_limit(first))]
    for (_, picture), colours in zip(weight_grid, expected):
        np.testing.assert_array_equal(picture, colours)
    limit = inside_charts.symmetric_limit(hidden_weight_images(net, 0)[:64])  # the colour key: a true minus sign
    key_caption = next(caption for caption, _ in figures(at.html[1].value))
    assert key_caption == f"−{limit:.2f}  ←  0  →  +{limit:.2f}"
    assert f"full blue −{limit:.2f} or below, full red {limit:.2f}" in texts(at.caption)
    backquery = next(figures(e.value) for e in at.html if len(figures(e.value)) == 10)
    assert backquery[3][0].startswith("3: read as 3")  # gradient ascent, the default: read as its own digit
    np.testing.assert_array_equal(backquery[3][1], 255 - digits.to_pixels(ascent_images(net)[3]))
    assert "Drawn by gradient ascent" in texts(at.caption)
    assert "It reads 10 of the 10 as the digit they came from" in texts(at.caption)
    at.segmented_control(key="in_backquery_method").set_value("inversion").run()
    backquery = next(figures(e.value) for e in at.html if len(figures(e.value)) == 10)
    np.testing.assert_array_equal(backquery[3][1], 255 - digits.to_pixels(backquery_all(net)[3]))
    assert "Drawn by Rashid's inversion" in texts(at.caption)

    open_inside_views(at)
    no_exceptions(at)
    assert "the network reads a **7** (right)" in texts(at.markdown)  # MNIST's first test image is a 7
    assert "test image #1 of MNIST, a 7" in image_captions(at)  # "Which one (1 to 10,000): 1" is number 1
    assert len(charts(at)) == 5  # outputs, contributions, activations, two histograms

    at.segmented_control(key="in_nodes_by_3").set_value("digit").run()
    at.selectbox(key="in_nodes_digit").set_value(3).run()
    no_exceptions(at)
    assert "The output node for **3**" in texts(at.caption)
    at.segmented_control(key="in_test_digit").set_value(4).run()
    at.number_input(key="in_test_position_4").set_value(5).run()
    at.segmented_control(key="in_output_digit").set_value(9).run()
    no_exceptions(at)
    fifth_four = int(np.flatnonzero(mnist.test.labels == 4)[4])  # the 5th image of a 4, counted from 1
    assert f"test image #{fifth_four + 1:,} of MNIST, a 4" in image_captions(at)
    assert "Output **9**:" in texts(at.markdown)


def test_inside_follows_the_drawing_from_the_draw_page(mnist):
    from ann.inputs import scale_inputs

    at = open_page()
    at.session_state["draw_input"] = {"x": scale_inputs(mnist.test.images[1:2]), "fingerprint": "two"}
    at.switch_page("pages/inside.py")
    open_inside_views(at)
    no_exceptions(at)
    assert at.segmented_control(key="in_source").value == "drawing"
    assert "your drawing, as the Draw page prepared it" in image_captions(at)
    assert "the network reads a **2**" in texts(at.markdown)


def test_inside_without_a_drawing_says_where_to_make_one():
    at = open_page("inside")
    open_inside_views(at)
    at.segmented_control(key="in_source").set_value("drawing").run()
    no_exceptions(at)
    assert "write a digit on the Draw page" in texts(at.info)


@pytest.mark.parametrize("hidden,activation", [((30, 20), "tanh"), ((), "sigmoid")], ids=["deep", "no-hidden"])
def test_inside_handles_other_network_shapes(hidden, activation):
    from ann.config import NetworkConfig
    from ann.network import Network
    from ui.state import ActiveModel

    config = NetworkConfig(hidden_nodes=hidden, activation=activation, bias=True)
    at = open_page()
    at.session_state["active_model"] = ActiveModel(config=config, train_config=None, history=[], info={},
                                                    name="Mine", source="uploaded", network=Network(config))
    at.switch_page("pages/inside.py")
    open_inside_views(at)
    no_exceptions(at)
    if hidden:
        assert "have no picture" in texts(at.caption)
        assert len(figures(at.html[0].value)) == 30  # the 30 first-layer nodes: "How many" tops out at all
    else:
        assert "no hidden layer" in texts(at.info)
        assert len(figures(at.html[0].value)) == 10


def test_inside_without_any_model_says_so(monkeypatch, tmp_path):
    from ui import state

    monkeypatch.setattr(state, "SHIPPED_DIR", tmp_path)  # no shipped model file there
    monkeypatch.setattr(state, "PRETRAINED_PATH", tmp_path / "pretrained.npz")
    at = open_page("inside")
    no_exceptions(at)
    assert "No model yet" in texts(at.info)


# --------------------------------------------------------------------------- Train: shareable links


def test_a_link_opens_the_train_page_with_its_settings():
    at = open_page("train", {"preset": "fast", "lr": "0.5", "hidden": "100,50", "shuffle": "false",
                             "limit": "2000", "error-rule": "proportional"})
    no_exceptions(at)
    assert not at.warning
    assert at.segmented_control(key="tr_preset").value == "fast"
    assert at.number_input(key="tr_lr").value == pytest.approx(0.5)
    assert at.number_input(key="tr_layers").value == 2
    assert (at.number_input(key="tr_hidden_0").value, at.number_input(key="tr_hidden_1").value) == (100, 50)
    assert at.checkbox(key="tr_shuffle").value is False
    assert at.select_slider(key="tr_limit").value == 2000
    assert at.radio(key="tr_error_rule").value == "proportional"
    assert at.slider(key="tr_momentum").value == pytest.approx(0.9)  # the rest is the preset's
    # The address keeps exactly what differs from the preset, and the page shows it as a link to copy.
    expected = {"preset": "fast", "hidden": "100,50", "lr": "0.5", "shuffle": "false", "limit": "2000",
                "error-rule": "proportional"}
    assert query(at) == expected
    assert not at.code  # the link to copy is drawn when its expander is opened
    at.session_state["tr_copy_link"] = True
    at.run()
    link = at.code[-1].value
    assert link.startswith("/train?preset=fast&") and "hidden=100,50" in link and "lr=0.5" in link


def test_bad_link_values_are_named_and_fall_back_to_the_defaults():
    at = open_page("train", {"lr": "fast", "epochs": "500", "batch-size": "3", "activation": "gelu",
                             "hidden": "200,x", "preset": "turbo", "colour": "blue", "bias": "maybe",
                             "momentum": "0.5"})
    no_exceptions(at)
    warnings = texts(at.warning)
    for name in ("lr=fast", "epochs=500", "batch-size=3", "activation=gelu", "hidden=200,x", "preset=turbo",
                 "`colour`", "bias=maybe"):
        assert name in warnings, name
    assert len(at.warning) == 8
    assert at.number_input(key="tr_lr").value == pytest.approx(0.1)  # the seed's
    assert at.slider(key="tr_epochs").value == 5
    assert at.slider(key="tr_momentum").value == pytest.approx(0.5)  # the one good value is used
    assert at.button(key="tr_start").disabled is False
    at.run()  # a rerun of the page (a widget, an estimate arriving) keeps saying what the link got wrong
    assert len(at.warning) == 8
    assert query(at) == {"momentum": "0.5"}
    at.switch_page("pages/runs.py").run()  # leaving the page forgets them
    at.switch_page("pages/train.py").run()
    no_exceptions(at)
    assert not [w for w in at.warning if "The link's" in str(w.value)]


@pytest.mark.parametrize("end", [0, -1], ids=["lowest", "highest"])
def test_every_link_parameter_at_the_ends_of_its_range_opens(end):
    """The link's ranges must be the widgets' ranges: a value a widget refuses would stop the page."""
    from ui import setup_link

    at = open_page("train")
    records, batches = at.select_slider(key="tr_limit").options, at.select_slider(key="tr_batch").options
    ends = {"hidden": ",".join(["1000"] * 4) if end else "none"}
    for param in setup_link.train_params([int(r.replace(",", "")) for r in records], [int(b) for b in batches]):
        if param.kind == "bool":
            ends[param.name] = "true" if end else "false"
        elif param.options is not None:
            ends[param.name] = str(param.options[end])
        else:
            value = (param.low, param.high)[end]
            ends[param.name] = str(int(value)) if param.kind == "int" else f"{value:g}"
    at = open_page("train", ends)
    no_exceptions(at)
    assert not at.warning, texts(at.warning)
    assert at.number_input(key="tr_layers").value == (4 if end else 0)
    assert at.number_input(key="tr_lr").value == pytest.approx(5.0 if end else 0.0001)
    assert at.number_input(key="tr_seed").value == (2**32 - 1 if end else 0)


def test_changing_a_setting_updates_the_link_and_defaults_keep_it_empty():
    at = open_page("train")
    no_exceptions(at)
    assert not dict(at.query_params)
    at.session_state["tr_copy_link"] = True
    at.run()
    assert at.code[-1].value == "/train"
    at.number_input(key="tr_lr").set_value(0.25).run()
    at.select_slider(key="tr_batch").set_value(16).run()
    assert query(at) == {"lr": "0.25", "batch-size": "16"}
    at.segmented_control(key="tr_preset").set_value("best").run()  # a preset: its settings are the new base
    assert query(at) == {"preset": "best"}


# --------------------------------------------------------------------------- the pure parts


def test_link_round_trip_for_every_preset_and_a_custom_setup():
    from ann.config import PRESETS
    from ui import setup_link

    records, batches = [500, 10_000, 60_000], [1, 16, 32, 64]
    params = setup_link.train_params(records, batches)

    def base_for(name):
        net, tr = PRESETS[name].network, PRESETS[name].train
        values = {"tr_layers": len(net.hidden_nodes), "tr_activation": net.activation, "tr_loss": net.loss,
                  "tr_error_rule": net.error_rule, "tr_propagate": net.propagate, "tr_bias": net.bias,
                  "tr_dtype": net.dtype, "tr_lr": tr.learning_rate, "tr_epochs": tr.epochs,
                  "tr_batch": tr.batch_size, "tr_rotate": tr.rotate, "tr_augment": tr.augment, "tr_shift": tr.shift,
                  "tr_elastic": tr.elastic_alpha, "tr_sigma": tr.elastic_sigma, "tr_momentum": tr.momentum,
                  "tr_decay": tr.weight_decay, "tr_schedule": tr.schedule, "tr_warmup": tr.warmup_epochs,
                  "tr_shuffle": tr.shuffle, "tr_seed": tr.seed, "tr_limit": 10_000}
        values.update({f"tr_hidden_{i}": n for i, n in enumerate(net.hidden_nodes)})
        return values

    for name in PRESETS:
        values = {**base_for(name), "tr_preset": name}
        query = setup_link.to_query(values, base_for, params)
        assert query == ({} if name == "seed" else {"preset": name})
    custom = {**base_for("seed"), "tr_preset": None, "tr_lr": 0.03, "tr_layers": 0, "tr_limit": 500,
              "tr_bias": True, "tr_rotate": 12.5}
    query = setup_link.to_query(custom, base_for, params)
    assert query == {"preset": "none", "hidden": "none", "bias": "true", "lr": "0.03", "limit": "500",
                     "rotate": "12.5"}
    values, warnings = setup_link.from_query(query, base_for, params, list(PRESETS), 4, (5, 1000))
    assert not warnings
    assert {k: values[k] for k in custom if k in values and not k.startswith("tr_hidden")} == {
        k: v for k, v in custom.items() if not k.startswith("tr_hidden")}
    assert setup_link.link("http://host:8501/train?old=1", query).startswith("http://host:8501/train?preset=none&")
    assert setup_link.from_query({"embed": "true"}, base_for, params, list(PRESETS), 4, (5, 1000)) == ({}, [])


def _rules_result(finals: dict[str, list[float]], hidden: int = 200) -> dict:
    return {"kind": "error_rules", "records": 60_000, "config": {"hidden_nodes": [hidden], "epochs": 3},
            "series": [{"rule": rule, "epochs": list(range(1, len(curve) + 1)), "test_accuracy": curve,
                        "train_loss": [0.1] * len(curve), "seconds": [1.0] * len(curve)}
                       for rule, curve in finals.items()]}


def test_findings_say_whether_the_figures_agree_with_the_seed():
    from ui import findings

    agree = findings.error_rules_finding(_rules_result({
        "transpose": [0.95, 0.96, 0.97], "transpose_normalized": [0.80, 0.90, 0.95],
        "equal": [0.11, 0.11, 0.12], "proportional": [0.93, 0.95, 0.965]}))
    assert "**They agree with the seed**" in agree and "is the best" in agree
    assert "never learns (12.00%" in agree and "N = 200" in agree and "closes most of the gap" in agree
    disagree = findings.error_rules_finding(_rules_result({"transpose": [0.90], "proportional": [0.95]}))
    assert "**They disagree with the seed here**" in disagree and "5.00 points" in disagree

    sweep = {"kind": "sweep", "parameter": "epochs", "records": 2000, "config": {},
             "values": [1, 2, 3, 4, 5, 6, 7, 8], "final_test_accuracy": [0.0] * 8,
             "series": [{"value": 8, "epochs": list(range(1, 9)),
                         "test_accuracy": [0.90, 0.92, 0.93, 0.94, 0.945, 0.944, 0.940, 0.938],
                         "train_accuracy": [0.90, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995]}]}
    text = findings.epochs_finding(sweep)
    assert "peaks at epoch 5 (94.50%)" in text and "overfitting" in text and "agrees with the seed" in text


def test_charts_draw_partial_and_empty_results():
    from ui import experiments_charts as ec

    empty_rules = {"kind": "error_rules", "series": []}
    ec.error_rules_chart(empty_rules, zoom=True).to_dict()
    ec.epochs_chart({"kind": "sweep", "parameter": "epochs", "series": []}).to_dict()
    partial = {"kind": "sweep", "parameter": "learning_rate", "config": {"epochs": 3}, "values": [0.3],
               "final_test_accuracy": [0.9], "series": []}
    spec = ec.sweep_chart(partial).to_dict()
    assert spec["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"
    assert ec.peak_epoch({"series": [{"epochs": [1, 2, 3], "test_accuracy": [0.5, 0.7, 0.7]}]}) == (2, 0.7)


def test_weight_pictures_are_blue_negative_white_zero_red_positive():
    from ui import inside_charts

    pictures = inside_charts.diverging_images(np.array([[[-2.0, 0.0, 1.0, 0.5]]]), limit=1.0, scale=2)
    assert pictures.shape == (1, 2, 8, 3) and pictures.dtype == np.uint8
    blue, white, red, pink = pictures[0, 0, ::2]
    assert tuple(white) == (255, 255, 255)
    assert blue[2] > blue[0] and red[0] > red[2]  # saturated at the limit: -2 is as blue as -1
    assert tuple(pink) == tuple(np.round((np.array([255, 255, 255]) + np.array([178, 24, 43])) / 2))
    assert inside_charts.symmetric_limit(np.zeros(5)) == 1.0
