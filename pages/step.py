"""One step, by hand: the arithmetic of one training step, every number shown (the seed's 4.1 and 4.2).

Two tabs. *A small network*: two inputs, two hidden nodes, two outputs, every value editable, starting from
the seed's examples; the forward signals, the output error, the hidden error under each of the four rules,
each weight's change written out, and a Step button. *One node of the real network*: the same view for any
node of the active model on a test image or the Draw page's drawing. The numbers come from ``ann.lab.by_hand``
(tests check each against ``ann.network``); the session's model is never changed here.
"""

import numpy as np
import pandas as pd
import streamlit as st

from ann.formats import signed
from ann.lab.by_hand import SEED_EXAMPLE, node_step, small_step
from ann.train import as_inputs
from ui import (
    charts,
    datasets,
    digits,
    downloads,
    inside_charts,
    pictures,
    robustness_view,
    shell,
    state,
    step_diagram,
    tables,
)

shell.page_start()

RULES = {  # the seed's four ways to send the error back, in its order
    "equal": "split evenly (E / N)",
    "proportional": "split by weight share",
    "transpose": "Wᵀ·E (the seed's)",
    "transpose_normalized": "Wᵀ·E / N",
}
UPDATES = {"seed": "the seed's update (send E back)", "exact": "the exact gradient (send E·O·(1−O) back)"}
WEIGHT_LIMIT = 1000.0  # the inputs' bounds; a runaway Step is held here (and said so)
TOP_TERMS = 8  # products shown of a real node's sum, the largest first
FORMULA = "lr × E × O × (1 − O) × O_prev"  # each weight's change, the seed's formula
NUMBER = "%.6f"
PRECISE = "%.8f"  # a real node's weights move in the 6th decimal
TINY = "%.3e"  # and by changes this small

st.title("One step by hand")
st.markdown(
    "The seed explains training on small hand-drawn networks (its sections 4.1 and 4.2): the signal into a "
    "node is **X = W·I**, squeezed by the sigmoid; the output error is **E = T − O**; the error goes back "
    "to the hidden layer by one of four rules; and each weight moves by **lr × E × O × (1 − O) × O_prev**. "
    "Here that arithmetic is done in the open, with numbers you can change.")


def show_table(rows: list[dict] | dict, formats: dict[str, str]) -> None:
    """A small table (rows as dicts, or columns) as HTML: each number in its column's format, all its digits
    on hover (``ui.tables``: no spreadsheet widget for a few rows)."""
    columns = {name: [row[name] for row in rows] for name in rows[0]} if isinstance(rows, list) else rows
    st.html(tables.html_table(columns, formats))


def fmt(value: float) -> str:
    """A number as the seed writes them: 4 decimals, or 3 significant digits when it is tiny (with a true
    minus sign, as every page writes one)."""
    value = float(value)
    return signed(value, ".4f" if value == 0 or abs(value) >= 1e-3 else ".3e")


# --------------------------------------------------------------------------- the small network's values

def _keys() -> dict[str, list]:
    return {
        "inputs": [f"st_i{i}" for i in range(2)],
        "hidden_weights": [[f"st_wih{j}{i}" for i in range(2)] for j in range(2)],
        "output_weights": [[f"st_who{k}{j}" for j in range(2)] for k in range(2)],
        "targets": [f"st_t{k}" for k in range(2)],
    }


KEYS = _keys()


def load_values(values: dict) -> None:
    """Put a set of values into the inputs (before they are drawn: a callback, or the first run)."""
    for name in ("inputs", "targets"):
        for key, value in zip(KEYS[name], values[name]):
            st.session_state[key] = float(value)
    for name in ("hidden_weights", "output_weights"):
        for row_keys, row in zip(KEYS[name], values[name]):
            for key, value in zip(row_keys, row):
                st.session_state[key] = float(value)
    st.session_state["st_lr"] = float(values["learning_rate"])


def current_values() -> dict:
    s = st.session_state
    return {
        "inputs": np.array([s[k] for k in KEYS["inputs"]]),
        "hidden_weights": np.array([[s[k] for k in row] for row in KEYS["hidden_weights"]]),
        "output_weights": np.array([[s[k] for k in row] for row in KEYS["output_weights"]]),
        "targets": np.array([s[k] for k in KEYS["targets"]]),
        "learning_rate": float(s["st_lr"]),
    }


def reset() -> None:
    load_values(SEED_EXAMPLE)
    st.session_state["st_losses"] = []


def take_steps(count: int) -> None:
    """Apply ``count`` steps to the weights in the inputs; the losses go into the history."""
    values = current_values()
    losses = st.session_state.setdefault("st_losses", [])
    held = False
    for _ in range(count):
        w = small_step(**values, update=st.session_state["st_update"], error_rule=st.session_state["st_rule"])
        if not losses:
            losses.append(w.loss)
        losses.append(w.new_loss)
        new_hidden = np.clip(w.new_hidden_weights, -WEIGHT_LIMIT, WEIGHT_LIMIT)
        new_output = np.clip(w.new_output_weights, -WEIGHT_LIMIT, WEIGHT_LIMIT)
        held |= not (np.array_equal(new_hidden, w.new_hidden_weights)
                     and np.array_equal(new_output, w.new_output_weights))
        values = values | {"hidden_weights": new_hidden, "output_weights": new_output}
    load_values(values)
    st.session_state["st_held"] = held


if "st_i0" not in st.session_state:
    reset()
st.session_state.setdefault("st_update", "seed")
st.session_state.setdefault("st_rule", "transpose")

# Tabs that rerun the page when switched: only the open one is computed and sent (the second reads the
# active model and MNIST).
small_tab, node_tab = st.tabs(["A small network", "One node of the real network"], key="st_tab", on_change="rerun")

# --------------------------------------------------------------------------- tab 1: a small network

if small_tab.open:
    with small_tab:
        st.markdown(
            "It starts from the seed's examples: inputs **1.0** and **0.5** into two hidden nodes with the weights "
            "of Rashid's two-node example (0.9, 0.3, 0.2, 0.8), and into output K1 the weights **3.0** and **1.0** "
            "that the seed's 4.2 splits an error by, 3/4 and 1/4. Output K2's weights (1.0, 4.0) and the targets "
            "(the seed's 0.99 for the right answer, 0.01 for the other) complete it. Change any number.")
        values = current_values()
        update = st.session_state["st_update"]
        rule = st.session_state["st_rule"]
        w = small_step(**values, update=update, error_rule=rule)
        other = small_step(**values, update="exact" if update == "seed" else "seed", error_rule=rule)

        st.markdown(step_diagram.step_svg(w.inputs, w.hidden_weights, w.output_weights, w.hidden_outputs,
                                          w.outputs, w.targets), unsafe_allow_html=True)  # st.html drops SVG
        st.caption("Links are labelled W i,j, from node i of the layer below to node j (the seed's notation): red "
                   "positive, blue negative, thicker for larger. Under each node its output; under each output its "
                   "target T and error E.")
        # the drawing first, the numbers to change under it: on a phone the values fill two screens
        with st.expander("The values (inputs, weights, targets, learning rate)", expanded=True):
            cols = st.columns(4)
            with cols[0]:
                st.markdown("**Inputs**")
                for i, key in enumerate(KEYS["inputs"]):
                    st.number_input(f"I{i + 1}", -10.0, 10.0, step=0.1, format="%.4f", key=key)
            with cols[1]:
                st.markdown("**Into the hidden nodes**")
                for j, row in enumerate(KEYS["hidden_weights"]):
                    for i, key in enumerate(row):
                        st.number_input(f"W{i + 1},{j + 1} (I{i + 1} → J{j + 1})", -WEIGHT_LIMIT, WEIGHT_LIMIT,
                                        step=0.1,
                                        format="%.4f", key=key)
            with cols[2]:
                st.markdown("**Into the outputs**")
                for k, row in enumerate(KEYS["output_weights"]):
                    for j, key in enumerate(row):
                        st.number_input(f"W{j + 1},{k + 1} (J{j + 1} → K{k + 1})", -WEIGHT_LIMIT, WEIGHT_LIMIT,
                                        step=0.1,
                                        format="%.4f", key=key)
            with cols[3]:
                st.markdown("**Targets and learning rate**")
                for k, key in enumerate(KEYS["targets"]):
                    st.number_input(f"T{k + 1} (target of K{k + 1})", 0.0, 1.0, step=0.01, format="%.2f", key=key)
                st.number_input("Learning rate", 0.001, 10.0, step=0.05, format="%.3f", key="st_lr")
            st.button("Back to the seed's example", key="st_reset", icon=":material/restart_alt:", on_click=reset)

        st.subheader("1. The signal forward: X = W·I, then the sigmoid")
        hidden_rows = [{"node": f"J{j + 1}",
                        "X = W·I": " + ".join(f"{fmt(w.hidden_weights[j, i])} × {fmt(w.inputs[i])}"
                                              for i in range(2)),
                        "X": w.hidden_net[j], "O = sigmoid(X)": w.hidden_outputs[j]} for j in range(2)]
        output_rows = [{"node": f"K{k + 1}",
                        "X = W·I": " + ".join(f"{fmt(w.output_weights[k, j])} × {fmt(w.hidden_outputs[j])}"
                                              for j in range(2)),
                        "X": w.output_net[k], "O = sigmoid(X)": w.outputs[k]} for k in range(2)]
        show_table(hidden_rows + output_rows, {"X": NUMBER, "O = sigmoid(X)": NUMBER})
        st.caption("sigmoid(X) = 1 / (1 + e^(−X)). The hidden nodes' outputs are the output layer's inputs.")

        st.subheader("2. The output error: E = T − O")
        show_table({"node": ["K1", "K2"], "target T": w.targets, "output O": w.outputs, "E = T − O": w.output_errors},
                   {c: NUMBER for c in ("target T", "output O", "E = T − O")})
        st.markdown(f"The squared error, **½ Σ E² = {fmt(w.loss)}**, is what training makes smaller.")

        st.subheader("3. The error sent back to the hidden nodes: four rules")
        st.radio("What is sent back", list(UPDATES), format_func=UPDATES.get, key="st_update", horizontal=True,
                 help="The seed sends the output error E itself back. Exact backpropagation (the gradient of the "
                      "squared error) sends E·O·(1−O), the error times the sigmoid's slope at the output.")
        sent = "E" if update == "seed" else "E·O·(1−O)"
        show_table({"node": ["J1", "J2"]} | {RULES[r]: w.hidden_errors_by_rule[r] for r in RULES},
                   {RULES[r]: NUMBER for r in RULES})
        W, e = w.output_weights, w.sent_back
        shares = [[abs(W[k, j]) / max(abs(W[k, 0]) + abs(W[k, 1]), 1e-300) for j in range(2)] for k in range(2)]
        st.markdown(
            f"What goes back from K1 and K2: {sent} = {fmt(e[0])} and {fmt(e[1])}. For **J1** (N = 2 links into "
            "each output):\n"
            f"- split evenly: ({fmt(e[0])} + {fmt(e[1])}) / 2 = **{fmt(w.hidden_errors_by_rule['equal'][0])}**\n"
            f"- by weight share: {fmt(e[0])} × {fmt(W[0, 0])}/({fmt(abs(W[0, 0]))} + {fmt(abs(W[0, 1]))}) + "
            f"{fmt(e[1])} × {fmt(W[1, 0])}/({fmt(abs(W[1, 0]))} + {fmt(abs(W[1, 1]))}) = "
            f"**{fmt(w.hidden_errors_by_rule['proportional'][0])}** (K1's share for J1: {shares[0][0]:.0%})\n"
            f"- Wᵀ·E: {fmt(W[0, 0])} × {fmt(e[0])} + {fmt(W[1, 0])} × {fmt(e[1])} = "
            f"**{fmt(w.hidden_errors_by_rule['transpose'][0])}**\n"
            f"- Wᵀ·E / N: that / 2 = **{fmt(w.hidden_errors_by_rule['transpose_normalized'][0])}**")
        # radio buttons (four choices, in view) rather than a drop-down list, which would cost every visitor's
        # first look some twenty more of Streamlit's script files from the server
        st.radio("The rule this step uses", list(RULES), format_func=RULES.get, key="st_rule", horizontal=True,
                 help="The seed compares all four and keeps Wᵀ·E. Shares are taken of the weights' sizes, so a "
                      "negative weight sends back a negative share.")

        st.subheader("4. Each weight's change: lr × E × O × (1 − O) × O_prev")
        lr = w.learning_rate
        change_rows = []
        for k in range(2):
            for j in range(2):
                change_rows.append({
                    "link": f"W{j + 1},{k + 1} (J{j + 1} → K{k + 1})",
                    FORMULA: (f"{fmt(lr)} × {fmt(w.output_errors[k])} × {fmt(w.outputs[k])} "
                              f"× (1 − {fmt(w.outputs[k])}) × {fmt(w.hidden_outputs[j])}"),
                    "ΔW": w.output_weight_changes[k, j], "W before": w.output_weights[k, j],
                    "W after": w.new_output_weights[k, j]})
        for j in range(2):
            for i in range(2):
                change_rows.append({
                    "link": f"W{i + 1},{j + 1} (I{i + 1} → J{j + 1})",
                    FORMULA: (f"{fmt(lr)} × {fmt(w.hidden_errors[j])} × {fmt(w.hidden_outputs[j])} "
                              f"× (1 − {fmt(w.hidden_outputs[j])}) × {fmt(w.inputs[i])}"),
                    "ΔW": w.hidden_weight_changes[j, i], "W before": w.hidden_weights[j, i],
                    "W after": w.new_hidden_weights[j, i]})
        show_table(change_rows, {c: NUMBER for c in ("ΔW", "W before", "W after")})
        st.caption(f"For a hidden node, E is its error from step 3 ({RULES[rule]}). Both layers change with the "
                   "weights as they were before the step, as the seed's train() does.")

        seed_w, exact_w = (w, other) if update == "seed" else (other, w)
        difference = exact_w.hidden_weight_changes - seed_w.hidden_weight_changes
        st.markdown("**The seed's update against the exact gradient.** The output layer's changes are the same. The "
                    "hidden layer's differ, because the seed sends back E where the gradient sends E·O·(1−O):")
        show_table({
            "link": [f"W{i + 1},{j + 1} (I{i + 1} → J{j + 1})" for j in range(2) for i in range(2)],
            "ΔW, seed's update": seed_w.hidden_weight_changes.ravel(),
            "ΔW, exact gradient": exact_w.hidden_weight_changes.ravel(),
            "difference": difference.ravel()}, {c: NUMBER for c in ("ΔW, seed's update", "ΔW, exact gradient",
                                                                   "difference")})
        st.caption(f"With these values a seed step takes the squared error from {fmt(seed_w.loss)} to "
                   f"{fmt(seed_w.new_loss)}; an exact-gradient step to {fmt(exact_w.new_loss)}. The seed's rule is not "
                   "the gradient, yet it trains well: the README's 'Faithful to the seed' says more.")

        st.subheader("5. Take the step")
        direction = "smaller" if w.new_loss < w.loss else "larger (try a smaller learning rate)"
        st.markdown(f"After this step the outputs would be **{fmt(w.new_outputs[0])}** and "
                    f"**{fmt(w.new_outputs[1])}**, "
                    f"and the squared error **{fmt(w.new_loss)}** instead of {fmt(w.loss)}: {direction}.")
        b1, b2, _ = st.columns([1, 1, 3])
        b1.button("Step", key="st_step", type="primary", icon=":material/play_arrow:", on_click=take_steps, args=(1,))
        b2.button("10 steps", key="st_step10", icon=":material/fast_forward:", on_click=take_steps, args=(10,))
        if st.session_state.pop("st_held", False):
            st.warning(f"A weight grew past ±{WEIGHT_LIMIT:g} and was held there: the learning rate is too large "
                       "for these values. Lower it, or go back to the seed's example.")
        losses = st.session_state.get("st_losses", [])
        if len(losses) > 1:
            frame = pd.DataFrame({"step": np.arange(len(losses)), "squared error": losses})
            st.line_chart(frame, x="step", y="squared error", height=220)
            st.caption(f"{len(losses) - 1} steps taken: the squared error went from {fmt(losses[0])} to "
                       f"{fmt(losses[-1])}. The weights in the values above are the stepped ones.")

# --------------------------------------------------------------------------- tab 2: one node of a real network

if node_tab.open:
    with node_tab:
        model = state.show_model_caption(dataset_check=False)
        if model is None:
            st.stop()
        datasets.require_digits_model(model, "One step by hand")  # this page works on MNIST only
        network = model.network
        config = model.config
        n_layers = len(network.weights)
        drawing = st.session_state.get("draw_input")
        mnist = downloads.mnist_if_ready()
        sources = {"test": "a test image", "drawing": "your drawing on the Draw page"}
        source = st.segmented_control("Image", list(sources), format_func=sources.get, required=True,
                                      default="drawing" if drawing is not None else "test", key="st_source")
        x = true_label = None
        if source == "drawing":
            if drawing is None:
                st.info("There is no drawing yet: write a digit on the Draw page, then come back.",
                        icon=":material/draw:")
            else:
                x = np.asarray(drawing["x"]).reshape(-1)
                about = "your drawing"
        elif mnist is None:
            st.info("A test image needs the MNIST dataset, which is not downloaded yet (the Home page downloads "
                    "it). A drawing from the Draw page works without it.", icon=":material/info:")
        else:
            position = st.number_input(f"Test image number (1 to {len(mnist.test.labels):,})", 1,
                                       len(mnist.test.labels), value=1, key="st_test_number")
            index = int(position) - 1
            x = mnist.test.images[index]
            true_label = int(mnist.test.labels[index])
            about = f"test image {digits.image_number(index)}, a {true_label}"

        if x is not None:
            inputs = as_inputs(np.asarray(x)[None, :], network.dtype)[0]
            predicted = int(network.predict(inputs[None, :])[0])
            names = [f"hidden layer {l}" for l in range(1, n_layers)] + ["output layer"]
            c1, c2, c3, c4 = st.columns(4)
            layer = c1.selectbox("Layer", list(range(1, n_layers + 1)), index=n_layers - 1,
                                 format_func=lambda l: f"{names[l - 1]} ({network.weights[l - 1].shape[0]} nodes)",
                                 key="st_layer")
            size = network.weights[layer - 1].shape[0]
            default_node = predicted if layer == n_layers else 0
            node = c2.number_input(f"Node (0 to {size - 1})", 0, size - 1, value=min(default_node, size - 1),
                                   key=f"st_node_{layer}_{size}")
            label = c3.selectbox("Train towards the digit", list(range(config.output_nodes)),
                                 index=true_label if true_label is not None else predicted, key=f"st_label_{about}")
            default_lr = model.train_config.learning_rate if model.train_config else 0.1
            learning_rate = c4.number_input("Learning rate", 0.0001, 10.0, value=float(default_lr), format="%.4f",
                                            key="st_node_lr")
            own_update = "seed" if config.propagate == "error" else "exact"
            u1, u2 = st.columns(2)
            node_update = u1.radio("What is sent back", list(UPDATES), format_func=UPDATES.get,
                                   index=list(UPDATES).index(own_update), key="st_node_update",
                                   help=f"This model was trained with {UPDATES[own_update]}.")
            node_rule = u2.selectbox("By the rule", list(RULES), format_func=RULES.get,
                                     index=list(RULES).index(config.error_rule), key="st_node_rule",
                                     help=f"This model was trained with {RULES[config.error_rule]}.")
            n = node_step(network, inputs, int(label), int(layer), int(node), learning_rate, node_update, node_rule)

            node_name = f"output node {node} (digit {node})" if n.is_output else f"node {node} of hidden layer {layer}"
            below = "the 784 pixels" if layer == 1 else f"the {len(n.inputs)} nodes of hidden layer {layer - 1}"
            image_col, text_col = st.columns([1, 4], gap="large")
            with image_col:
                st.html(pictures.figure(pictures.digit_url(np.asarray(x)), about, 112))
            with text_col:
                st.markdown(f"**{node_name}** on {about}; the network reads a **{predicted}**. One training step "
                            f"on this image, towards the digit **{label}**, at learning rate {fmt(learning_rate)}.")
                m1, m2, m3, m4 = st.columns(4)
                m1.metric("X, the signal in", fmt(n.net))
                m2.metric("O, its output", fmt(n.output))
                m3.metric("E, its error", fmt(n.error))
                m4.metric("Squared error" if config.loss == "mse" else "Loss", fmt(n.loss),
                          delta=f"{n.new_loss - n.loss:+.3e} after the step", delta_color="inverse")

            st.markdown(f"**Signal in: X = Σ W·O_prev{' + b' if n.bias is not None else ''}**, a sum over {below}.")
            order = np.argsort(-np.abs(n.products), kind="stable")[:TOP_TERMS]
            side = 28 if layer == 1 else None
            show_table({"from": [f"pixel ({i // 28}, {i % 28})" if side else f"node {i}" for i in order],
                        "O_prev": n.inputs[order], "W": n.weights[order], "W × O_prev": n.products[order]},
                       {c: NUMBER for c in ("O_prev", "W", "W × O_prev")})
            rest = float(n.products.sum() - n.products[order].sum())
            activation_text = {"sigmoid": "sigmoid(X) = 1 / (1 + e^(−X))", "tanh": "tanh(X)", "relu": "max(0, X)",
                               "softmax": "softmax: e^X over the sum of e^X of all ten outputs"}[n.activation]
            st.markdown(f"The {TOP_TERMS} largest terms add up to {fmt(n.products[order].sum())}; the other "
                        f"{len(n.products) - len(order)} to {fmt(rest)}"
                        + (f"; the bias is {fmt(n.bias)}" if n.bias is not None else "")
                        + f". So **X = {fmt(n.net)}**, and the node's output is {activation_text} = "
                          f"**{fmt(n.output)}**.")

            if n.is_output:
                st.markdown(f"**Its error**: the target for digit {label} is {fmt(n.target)} at this node, so "
                            f"**E = T − O = {fmt(n.target)} − {fmt(n.output)} = {fmt(n.error)}**.")
            else:
                above = "the output layer" if layer + 1 == n_layers else f"hidden layer {layer + 1}"
                st.markdown(f"**Its error**, under each of the four rules, from what {above} sends back:")
                show_table([{RULES[r]: n.errors_by_rule[r] for r in RULES}], {RULES[r]: NUMBER for r in RULES})
                st.caption(f"The step uses {RULES[n.error_rule]}: E = {fmt(n.error)}.")
            slope_text = {"sigmoid": f"O × (1 − O) = {fmt(n.output)} × (1 − {fmt(n.output)})",
                          "tanh": f"1 − O² = 1 − {fmt(n.output)}²", "relu": "1 where O > 0, else 0",
                          "softmax": "1 (softmax with cross-entropy: its slope cancels against the loss)"}[n.activation]
            st.markdown(f"**Its slope**: {slope_text} = {fmt(n.slope)}; **E × slope = {fmt(n.step)}**.")

            st.markdown(f"**Its weights' change: ΔW = lr × E × slope × O_prev**, one per link from {below}:")
            biggest = int(np.argmax(np.abs(n.weight_changes)))
            source = "pixel ({}, {})".format(*divmod(biggest, 28)) if side else f"node {biggest}"
            st.markdown(f"the largest, from {source}: "
                        f"{fmt(learning_rate)} × {fmt(n.error)} × {fmt(n.slope)} × {fmt(n.inputs[biggest])} = "
                        f"**{fmt(n.weight_changes[biggest])}** (from {signed(n.weights[biggest], '.8f')} to "
                        f"{signed(n.new_weights[biggest], '.8f')})"
                        + (f"; the bias changes by {fmt(n.bias_change)}" if n.bias_change is not None else "") + ".")
            top_changes = np.argsort(-np.abs(n.weight_changes), kind="stable")[:TOP_TERMS]
            change_col, picture_col = st.columns([3, 2], gap="large")
            with change_col:
                show_table({"from": [f"pixel ({i // 28}, {i % 28})" if side else f"node {i}" for i in top_changes],
                            "ΔW": n.weight_changes[top_changes], "W before": n.weights[top_changes],
                            "W after": n.new_weights[top_changes]}, {"ΔW": TINY, "W before": PRECISE,
                                                                     "W after": PRECISE})
            if side:
                limit = inside_charts.symmetric_limit(n.weight_changes, quantile=1.0)
                with picture_col:
                    st.html(pictures.figure(pictures.data_url(inside_charts.diverging_images(
                        n.weight_changes.reshape(1, 28, 28), limit, scale=1)[0]),
                        f"All 784 changes as a picture: red up, blue down (±{fmt(limit)})", 140))
            st.markdown(f"**After the whole network's step** (every node changes at once), this node's output on the "
                        f"same image goes from {fmt(n.output)} to **{fmt(n.new_output)}**, and the network's "
                        f"{'squared error' if config.loss == 'mse' else 'loss'} from {fmt(n.loss)} to "
                        f"**{fmt(n.new_loss)}**.")
            st.altair_chart(robustness_view.fit_width(charts.before_after_bars(n.outputs, n.new_outputs, height=160)),
                            width="stretch")
            st.caption("The ten outputs before and after that one step. Nothing is saved: the active model stays as "
                       "it was (the Draw page's Teach trains it for real).")
