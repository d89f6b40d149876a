"""ui.model_cache: work on a shipped model is done once per server and shared; a session's own model's work
stays in that session. Two AppTest sessions in one process share the server's caches, as two visitors do."""

from __future__ import annotations

import pickle
import uuid

import numpy as np
import pytest
from apptest_helpers import AppTest, no_exceptions

CALLS: list[tuple[str, str]] = []  # (model key, tag) of every computation, in this process

SCRIPT = """
import streamlit as st
import test_model_cache as t
from ui import state
from ui.model_cache import per_model

model = state.active_model()
if st.session_state.get("pick"):  # what the model picker does: another shipped model, a new object
    model = st.session_state["active_model"] = state.shipped(st.session_state.pop("pick"))
if st.session_state.get("teach"):
    state.own_network(model).weights[0][0, 0] += 1.0  # what Teach does: the session's own copy, changed
    model.version += 1
    st.session_state["teach"] = False
st.session_state["result"] = per_model(model, t.weight_sum, st.session_state["tag"])
st.session_state["key"] = model.key
"""


def weight_sum(network, tag: str) -> float:
    """The work being cached: it records each time it really runs."""
    CALLS.append((tag, str(float(network.weights[0][0, 0]))))
    return float(sum(W.astype(np.float64).sum() for W in network.weights))


def session(tag: str) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.session_state["tag"] = tag
    return at


def test_a_shipped_model_is_computed_once_for_every_visitor_and_an_own_model_in_its_session():
    tag = uuid.uuid4().hex  # the server-wide cache outlives a test: a new key for this one
    first, second = session(tag).run(), session(tag).run()
    no_exceptions(first)
    no_exceptions(second)
    mine = [call for call in CALLS if call[0] == tag]
    assert len(mine) == 1  # two visitors, one computation
    assert first.session_state["result"] == second.session_state["result"]
    assert first.session_state["key"] == second.session_state["key"]
    assert first.session_state["key"].startswith("shipped-") and first.session_state["key"].endswith(".0")
    assert "model_cache" not in first.session_state and "model_cache" not in second.session_state

    second.session_state["teach"] = True  # the second visitor teaches: from now on its own model
    second.run()
    no_exceptions(second)
    assert len([call for call in CALLS if call[0] == tag]) == 2
    assert second.session_state["result"] == pytest.approx(first.session_state["result"] + 1.0)
    assert not second.session_state["key"].startswith("shipped-")  # a new identity for the copy
    assert second.session_state["model_cache"]["key"] == second.session_state["key"]
    second.run()  # a rerun computes nothing again
    assert len([call for call in CALLS if call[0] == tag]) == 2

    first.run()  # the first visitor still sees the shipped model's shared result, untouched
    assert first.session_state["result"] == pytest.approx(second.session_state["result"] - 1.0)
    assert len([call for call in CALLS if call[0] == tag]) == 2

    third = session(tag)
    third.session_state["teach"] = True
    third.run()  # another visitor teaching once too: same version number, never the same key
    assert third.session_state["key"] != second.session_state["key"]
    assert len([call for call in CALLS if call[0] == tag]) == 3


def test_each_shipped_model_of_the_picker_is_computed_once_per_server():
    """Visitors who pick the other shipped model share its work too: one computation per shipped model, under
    keys that tell the two models apart; picking a model back again computes nothing."""
    tag = uuid.uuid4().hex
    default = session(tag)
    default.session_state["pick"] = "handwriting"  # whatever $ANN_DEFAULT_MODEL says
    default.run()
    picked = []
    for _ in range(2):
        at = session(tag)
        at.session_state["pick"] = "seed"
        picked.append(at.run())
    for at in (default, *picked):
        no_exceptions(at)
    assert len([call for call in CALLS if call[0] == tag]) == 2  # three visitors, two models
    assert picked[0].session_state["key"] == picked[1].session_state["key"] != default.session_state["key"]
    assert picked[0].session_state["key"].startswith("shipped-")
    assert picked[0].session_state["result"] != default.session_state["result"]

    default.session_state["pick"] = "seed"  # the first visitor picks the seed too, then goes back
    default.run()
    assert default.session_state["result"] == picked[0].session_state["result"]
    default.session_state["pick"] = "handwriting"
    default.run()
    no_exceptions(default)
    assert len([call for call in CALLS if call[0] == tag]) == 2
    assert all("model_cache" not in at.session_state for at in (default, *picked))


def test_a_shipped_models_work_is_shared_for_equal_arguments_only():
    """The arguments are the key (as one byte string): equal ones, built anew by each visitor, share one
    computation; arguments that differ in one item of a long tuple (Inside's 64 captions) never do."""
    base = uuid.uuid4().hex
    nodes = tuple(range(64))
    first = (base, nodes, tuple(f"node {j}" for j in nodes))
    again = (base, tuple(range(64)), tuple(f"node {j}" for j in range(64)))  # equal, other objects
    other = (base, nodes, tuple(f"node {j}" for j in range(63)) + ("node 64",))
    for tag in (first, again, other):
        no_exceptions(session(tag).run())
    assert [call[0] for call in CALLS if call[0] in (first, other)] == [first, other]


def test_a_shipped_models_work_is_kept_on_disk_for_the_next_server(tmp_path, monkeypatch):
    """A server started again reads a shipped model's results from the disk instead of computing them; a file
    that does not read is computed again and rewritten; the file's name changes with the code."""
    from ui import model_cache

    tag = uuid.uuid4().hex
    first = session(tag).run()
    no_exceptions(first)
    assert len([call for call in CALLS if call[0] == tag]) == 1
    name = f"{weight_sum.__code__.co_filename}:{weight_sum.__qualname__}"
    args = pickle.dumps((tag,), protocol=pickle.HIGHEST_PROTOCOL)
    path = model_cache.disk_path(name, first.session_state["key"], args)
    assert path.is_file() and path.parent == model_cache.views_dir()

    model_cache._shared.clear()  # what a new server's memory holds: nothing
    again = session(tag).run()
    no_exceptions(again)
    assert again.session_state["result"] == first.session_state["result"]
    assert len([call for call in CALLS if call[0] == tag]) == 1  # read, not computed

    path.write_bytes(b"half a file")  # a file cut short (a full disk, a crash while another server wrote it)
    model_cache._shared.clear()
    third = session(tag).run()
    no_exceptions(third)
    assert third.session_state["result"] == first.session_state["result"]
    assert len([call for call in CALLS if call[0] == tag]) == 2
    assert pickle.loads(path.read_bytes()) == first.session_state["result"]

    code = tmp_path / "code"  # a stand-in for the code folders: a new line of code, another digest
    code.mkdir()
    (code / "work.py").write_text("ANSWER = 1\n")
    monkeypatch.setattr(model_cache, "CODE_FOLDERS", (code,))
    model_cache.code_digest.cache_clear()
    try:
        before = model_cache.disk_path(name, first.session_state["key"], args)
        assert before == model_cache.disk_path(name, first.session_state["key"], args)  # the same code, the same
        (code / "work.py").write_text("ANSWER = 2\n")
        model_cache.code_digest.cache_clear()
        assert model_cache.disk_path(name, first.session_state["key"], args) not in (before, path)
    finally:
        model_cache.code_digest.cache_clear()
