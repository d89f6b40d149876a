"""AppTest tests of the pages of issue #11 (headless, no browser): One step by hand, the Hidden-layer map, the
Robustness lab, and the Draw page's "How sure is it, and how easily fooled?".

The numbers the One step page shows are checked against ann.network taking the same step (not against
ann.lab.by_hand, which computes them). The pages read the real MNIST files (ANN_DATA_DIR, as in test_app.py).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from apptest_helpers import html_tables, no_exceptions, open_page, rerun_until, texts

from ann.config import NetworkConfig
from ann.lab.by_hand import SEED_EXAMPLE
from ann.network import Network

PROPAGATE = {"seed": "error", "exact": "delta"}
NODE_TAB = "One node of the real network"
RULE_COLUMNS = {"equal": "split evenly (E / N)", "proportional": "split by weight share",
                "transpose": "Wᵀ·E (the seed's)", "transpose_normalized": "Wᵀ·E / N"}


@pytest.fixture(autouse=True)
def mnist_folder(monkeypatch, mnist_dir):
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))


# Each table of the One step page by the columns only it has (the page's tables are HTML: ui.tables).
TABLES = {
    "st_forward": {"O = sigmoid(X)"},
    "st_errors": {"E = T − O"},
    "st_rules": {"node", "split evenly (E / N)"},
    "st_node_rules": {"split evenly (E / N)"},
    "st_changes": {"lr × E × O × (1 − O) × O_prev", "link"},
    "st_compare": {"ΔW, seed's update"},
    "st_terms": {"W × O_prev"},
    "st_node_changes": {"from", "ΔW"},
}


def table(at, key: str):
    frames = html_tables(at)
    found = [df for df in frames if TABLES[key] <= set(df.columns)
             and not (key == "st_node_rules" and "node" in df.columns)]
    assert len(found) == 1, (key, [list(df.columns) for df in frames])
    return found[0]


def small_network(values: dict, rule: str = "transpose", update: str = "seed") -> Network:
    net = Network(NetworkConfig(input_nodes=2, hidden_nodes=(2,), output_nodes=2, error_rule=rule,
                                propagate=PROPAGATE[update], dtype="float64"))
    net.weights = [np.array(values["hidden_weights"], float), np.array(values["output_weights"], float)]
    return net


def stepped(values: dict, rule: str = "transpose", update: str = "seed") -> tuple[Network, Network]:
    before = small_network(values, rule, update)
    after = before.copy()
    after.train(np.array(values["inputs"])[None, :], np.array(values["targets"])[None, :], values["learning_rate"])
    return before, after


def check_small_network_page(at, values: dict, rule: str, update: str) -> None:
    """Every number in the page's tables, against ann.network on the same values."""
    x, t, lr = np.array(values["inputs"])[None, :], np.array(values["targets"])[None, :], values["learning_rate"]
    before, after = stepped(values, rule, update)
    _, hidden, outputs = before.forward(x)

    forward = table(at, "st_forward")
    np.testing.assert_allclose(forward["X"], np.concatenate([x[0] @ before.weights[0].T,
                                                             hidden[0] @ before.weights[1].T]), rtol=1e-12)
    np.testing.assert_allclose(forward["O = sigmoid(X)"], np.concatenate([hidden[0], outputs[0]]), rtol=1e-12)

    errors = table(at, "st_errors")
    np.testing.assert_allclose(errors["target T"], t[0])
    np.testing.assert_allclose(errors["output O"], outputs[0], rtol=1e-12)
    np.testing.assert_allclose(errors["E = T − O"], t[0] - outputs[0], rtol=1e-12)

    # Each rule's hidden error is what ann.network's step with that rule is built from:
    # dW_ih[j, i] = lr * E_h[j] * O_h[j] * (1 - O_h[j]) * I[i].
    rules = table(at, "st_rules")
    slope = hidden[0] * (1 - hidden[0])
    for name, column in RULE_COLUMNS.items():
        b, a = stepped(values, name, update)
        implied = (a.weights[0] - b.weights[0])[:, 0] / (lr * slope * x[0, 0])
        np.testing.assert_allclose(rules[column], implied, rtol=1e-9, atol=1e-14)

    changes = table(at, "st_changes")  # the output layer's four links, then the hidden layer's
    expected_before = np.concatenate([before.weights[1].ravel(), before.weights[0].ravel()])
    expected_after = np.concatenate([after.weights[1].ravel(), after.weights[0].ravel()])
    np.testing.assert_allclose(changes["W before"], expected_before, rtol=1e-12)
    np.testing.assert_allclose(changes["W after"], expected_after, rtol=1e-12)
    np.testing.assert_allclose(changes["ΔW"], expected_after - expected_before, rtol=1e-9, atol=1e-15)

    compare = table(at, "st_compare")
    for column, kind in (("ΔW, seed's update", "seed"), ("ΔW, exact gradient", "exact")):
        b, a = stepped(values, rule, kind)
        np.testing.assert_allclose(compare[column], (a.weights[0] - b.weights[0]).ravel(), rtol=1e-9, atol=1e-15)

    loss_before, loss_after = before.loss(x, t), after.loss(x, t)
    shown = texts(at.markdown)
    assert f"½ Σ E² = {loss_before:.4f}" in shown
    assert f"the squared error **{loss_after:.4f}** instead of {loss_before:.4f}" in shown


def test_one_step_page_shows_the_networks_own_numbers():
    at = open_page("step")
    no_exceptions(at)
    assert at.title[0].value == "One step by hand"
    check_small_network_page(at, SEED_EXAMPLE, "transpose", "seed")


def test_one_step_page_follows_edits_rule_and_update():
    at = open_page("step")
    at.number_input(key="st_i0").set_value(0.2)
    at.number_input(key="st_who01").set_value(-2.5)
    at.number_input(key="st_lr").set_value(0.7)
    at.run()
    at.radio(key="st_update").set_value("exact").run()
    at.radio(key="st_rule").set_value("proportional").run()
    no_exceptions(at)
    values = dict(SEED_EXAMPLE) | {"inputs": np.array([0.2, 0.5]),
                                   "output_weights": np.array([[3.0, -2.5], [1.0, 4.0]]), "learning_rate": 0.7}
    check_small_network_page(at, values, "proportional", "exact")


def test_the_step_button_applies_ann_networks_step():
    at = open_page("step")
    at.button(key="st_step").click().run()
    no_exceptions(at)
    before, after = stepped(SEED_EXAMPLE)
    state = at.session_state
    np.testing.assert_allclose([[state[f"st_wih{j}{i}"] for i in range(2)] for j in range(2)], after.weights[0],
                               rtol=1e-12)
    np.testing.assert_allclose([[state[f"st_who{k}{j}"] for j in range(2)] for k in range(2)], after.weights[1],
                               rtol=1e-12)
    x, t = SEED_EXAMPLE["inputs"][None, :], SEED_EXAMPLE["targets"][None, :]
    assert state["st_losses"] == pytest.approx([before.loss(x, t), after.loss(x, t)], rel=1e-12)
    assert after.loss(x, t) < before.loss(x, t)
    # the page now shows the stepped network's numbers
    check_small_network_page(at, dict(SEED_EXAMPLE) | {"hidden_weights": after.weights[0],
                                                       "output_weights": after.weights[1]}, "transpose", "seed")

    at.button(key="st_step10").click().run()
    no_exceptions(at)
    assert len(at.session_state["st_losses"]) == 12
    assert "11 steps taken" in texts(at.caption)
    at.button(key="st_reset").click().run()
    assert at.session_state["st_who00"] == 3.0 and at.session_state["st_losses"] == []


def test_a_runaway_weight_is_held_and_said():
    """Everything balanced on the edge: inputs 0.5 and 0.5 into weights +999 and -999 (both hidden nodes
    at 0.5, at their steepest), and output K1 fed by +999 and -999 (0.5, error 0.49). At learning rate 10
    one step moves W1,1 into J1 by about 10 x 489 x 0.25 x 0.5 = 611, past the inputs' limit of 1000."""
    at = open_page("step")
    at.number_input(key="st_lr").set_value(10.0)
    at.number_input(key="st_i0").set_value(0.5)
    for key, value in (("st_wih00", 999.0), ("st_wih01", -999.0), ("st_wih10", 999.0), ("st_wih11", -999.0),
                       ("st_who00", 999.0), ("st_who01", -999.0)):
        at.number_input(key=key).set_value(value)
    at.run()
    at.button(key="st_step").click().run()
    no_exceptions(at)
    assert "was held there" in texts(at.warning)
    assert at.session_state["st_wih00"] == 1000.0


def test_one_node_of_the_real_network_matches_ann_network(mnist_dir, monkeypatch):
    """The pretrained network on test image 0 (a 7): output node 7, then node 5 of the hidden layer."""
    monkeypatch.setenv("ANN_DEFAULT_MODEL", "seed")  # the seed's network, whatever the app's default
    from ann.data.mnist import load_mnist
    from ann.inputs import scale_inputs
    from ui import state

    at = open_page("step")
    no_exceptions(at)
    assert "output node 7 (digit 7)" not in texts(at.markdown)  # the second tab is computed when opened
    at.session_state["st_tab"] = NODE_TAB  # a click on the tab
    at.run()
    no_exceptions(at)
    net = state._read_pretrained(str(state.PRETRAINED_PATH), state.PRETRAINED_PATH.stat().st_mtime).network
    x = scale_inputs(load_mnist(mnist_dir, download=False).test.images[:1], np.float32)
    assert "output node 7 (digit 7)" in texts(at.markdown)
    assert at.number_input(key="st_test_number").value == 1 and "on test image #1, a 7" in texts(at.markdown)

    reference = Network(replace(net.config, dtype="float64"))
    reference.weights = [W.astype(np.float64) for W in net.weights]
    layers = reference.forward(x.astype(np.float64))
    after = reference.copy()
    after.train(x.astype(np.float64), reference.targets(np.array([7])), 0.1)

    terms = table(at, "st_terms")
    nodes = [int(name.split()[1]) for name in terms["from"]]
    np.testing.assert_allclose(terms["O_prev"], layers[1][0, nodes], rtol=1e-12)
    np.testing.assert_allclose(terms["W"], reference.weights[1][7, nodes], rtol=1e-12)
    np.testing.assert_allclose(terms["W × O_prev"], reference.weights[1][7, nodes] * layers[1][0, nodes], rtol=1e-12)
    changes = table(at, "st_node_changes")
    nodes = [int(name.split()[1]) for name in changes["from"]]
    np.testing.assert_allclose(changes["ΔW"], (after.weights[1] - reference.weights[1])[7, nodes], rtol=1e-7)
    np.testing.assert_allclose(changes["W after"], after.weights[1][7, nodes], rtol=1e-12)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["O, its output"] == f"{layers[2][0, 7]:.4f}"

    at.selectbox(key="st_layer").set_value(1).run()
    at.number_input(key="st_node_1_200").set_value(5).run()
    no_exceptions(at)
    assert "node 5 of hidden layer 1" in texts(at.markdown)
    rules = table(at, "st_node_rules")
    E = reference.targets(np.array([7]))[0] - layers[2][0]
    for name, column in RULE_COLUMNS.items():  # the hidden error each rule makes, from ann.network's step
        b = Network(replace(net.config, dtype="float64", error_rule=name))
        b.weights = [W.astype(np.float64) for W in net.weights]
        a = b.copy()
        a.train(x.astype(np.float64), b.targets(np.array([7])), 0.1)
        h = layers[1][0, 5]
        pixel = int(np.argmax(x[0]))
        implied = (a.weights[0] - b.weights[0])[5, pixel] / (0.1 * h * (1 - h) * x[0, pixel])
        assert rules[column].iloc[0] == pytest.approx(implied, rel=1e-6)
    assert rules[RULE_COLUMNS["transpose"]].iloc[0] == pytest.approx(E @ reference.weights[1][:, 5], rel=1e-9)
    changes = table(at, "st_node_changes")
    pixels = [tuple(int(v) for v in name[len("pixel ("):-1].split(", ")) for name in changes["from"]]
    np.testing.assert_allclose(changes["ΔW"], [(after.weights[0] - reference.weights[0])[5, r * 28 + c]
                                             for r, c in pixels], rtol=1e-6)


def test_one_node_view_works_on_a_drawing_without_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("ANN_DATA_DIR", str(tmp_path))  # no MNIST here
    monkeypatch.setenv("ANN_RUNS_DIR", str(tmp_path.parent / f"{tmp_path.name}_runs"))  # its own store: see test_app
    at = open_page("step")
    at.session_state["st_tab"] = NODE_TAB
    at.run()
    no_exceptions(at)
    assert "needs the MNIST dataset" in texts(at.info)
    at.session_state["draw_input"] = {"x": np.full((1, 784), 0.01, np.float32) + np.eye(1, 784, 400,
                                                                                       dtype=np.float32),
                                      "fingerprint": "test"}
    at.segmented_control(key="st_source").set_value("drawing").run()
    no_exceptions(at)
    assert "on your drawing" in texts(at.markdown)


# --------------------------------------------------------------------------- Hidden-layer map


def test_map_waits_for_the_button_then_draws_pca(monkeypatch):
    monkeypatch.setenv("ANN_DEFAULT_MODEL", "seed")  # the seed's network, whatever the app's default
    at = open_page("map")
    no_exceptions(at)
    assert "Draw the map" in texts(at.info)
    assert not at.get("vega_lite_chart")  # nothing heavy on the first render
    at.button(key="map_draw").click().run()
    no_exceptions(at)
    assert at.get("vega_lite_chart")  # the same probe sees the chart once it is drawn
    caption = texts(at.caption)
    assert "PCA: the two directions" in caption
    wrong = int(caption.split("Crosses with a black outline: the ")[1].split(" images")[0])
    assert 20 <= wrong <= 140  # the pretrained model reads 96.76% right: about 65 of 2,000 wrong
    at.segmented_control(key="map_highlight").set_value(3).run()
    no_exceptions(at)


def test_map_t_sne_on_few_images():
    pytest.importorskip("sklearn")
    at = open_page("map")
    at.segmented_control(key="map_method").set_value("tsne").run()
    at.select_slider(key="map_images_tsne").set_value(500).run()
    at.button(key="map_draw").click().run()
    no_exceptions(at)
    caption = texts(at.caption)
    assert "t-SNE: each point is placed near its nearest neighbours" in caption
    assert "This map took " in caption and " to compute on this server." in caption


def test_map_of_a_model_without_hidden_layer_says_so():
    from ui import state

    at = open_page("map")
    net = Network(NetworkConfig(hidden_nodes=()))
    at.session_state["active_model"] = state.ActiveModel(config=net.config, train_config=None, history=[],
                                                         info={}, name="No hidden", source="trained",
                                                         network=net)
    at.run()
    no_exceptions(at)
    assert "no hidden layer" in texts(at.info)


# --------------------------------------------------------------------------- Robustness lab


def test_robustness_sweeps_on_the_button():
    at = open_page("robustness")
    no_exceptions(at)
    assert "Run the sweeps" in texts(at.info)
    # measured in the background (not typed in), and shown when it is there
    rerun_until(at, lambda a: "at this server's speed now" in texts(a.info), "the estimate", timeout=60)
    at.pills(key="rb_kinds").set_value(["noise", "fgsm"]).run()
    at.select_slider(key="rb_images").set_value(500).run()
    at.button(key="rb_run").click().run()
    no_exceptions(at)
    results = at.session_state["rb_results"]
    assert results["n"] == 500 and set(results["curves"]) == {"noise", "fgsm"}
    fgsm = results["curves"]["fgsm"]
    assert fgsm[0]["level"] == 0.0 and fgsm[0]["accuracy"] > 0.93
    assert fgsm[-1]["accuracy"] < fgsm[0]["accuracy"] - 0.2  # measured on these 500: 96.8% -> 27.8% at 0.4
    assert "Adversarial (FGSM): from" in texts(at.caption)
    assert results["estimate"] > 0 and results["seconds"] > 0
    assert "(estimated " in texts(at.caption)


def test_robustness_one_image_tab(mnist):
    at = open_page("robustness")
    assert not at.get("image") and "What its answer rests on" not in texts(at.subheader)  # computed when opened
    at.session_state["rb_tab"] = "One image"  # a click on the tab
    at.run()
    at.slider(key="rb_epsilon").set_value(0.3).run()
    at.segmented_control(key="rb_digit").set_value(4).run()
    no_exceptions(at)
    captions = [c for image in at.get("image") for c in image.captions]
    first_four = int(np.flatnonzero(mnist.test.labels == 4)[0])  # "Which one (1 to 982): 1"
    assert any(c.startswith(f"test #{first_four + 1:,}, a 4:") for c in captions), captions  # counted from 1
    assert "What its answer rests on" in texts(at.subheader)


# --------------------------------------------------------------------------- Draw


def test_draw_how_sure_and_how_easily_fooled(monkeypatch, mnist_dir):
    from test_app import canvas_drawing_of, draw_on_canvas

    from ann.data.mnist import load_mnist

    seven = load_mnist(mnist_dir, download=False).test.images[0]
    at = open_page("draw")
    assert not any(e.label.startswith("How sure") for e in at.expander)  # no drawing: nothing to judge
    draw_on_canvas(monkeypatch, at, canvas_drawing_of(seven))
    at.run()
    no_exceptions(at)
    expander = next(e for e in at.expander if e.label.startswith("How sure is it"))
    metrics = {m.label: m.value for m in expander.metric}
    assert metrics["Its answer"] == "7"
    assert "keeps its answer" in texts(expander.markdown)
    assert "-" not in texts(expander.markdown).split("**Turned**")[1].split(".")[0]  # true minus signs only


def test_the_angles_kept_are_said_once_and_with_minus_signs():
    from ui.robustness_view import kept_ranges, turned_sentence

    angles = np.arange(-45.0, 46.0, 5.0)
    tried = "angles from −45° to 45° (every 5°)"
    assert turned_sentence(angles, angles) == f"**Turned**, it keeps its answer at all 19 {tried}"
    assert turned_sentence(angles, angles[3:15]).endswith(f"at 12 of the 19 {tried}: −30° to 25°")
    assert turned_sentence(angles, angles[:0]).endswith(f"at none of the 19 {tried}")
    some = np.array([-45.0, -40.0, 10.0, 15.0, 45.0])
    assert kept_ranges(angles, some, "°") == "−45° to −40°, 10° to 15° and 45°"
    assert kept_ranges(np.arange(-2.0, 4.0), np.array([-1.0, 0.0, 2.0])) == "−1 to 0 and 2"
