"""What a workspace has chosen: its active model and its active dataset, kept beside its runs.

A learner picks a model (a shipped one, one of their runs, a run shared with them) and a dataset on any page.
The choice belongs to the workspace (the browser's key), not to one browser session, so a reload, a second tab
or the next day opens on the same choice. One small row per workspace in the ``choices`` table, keyed like its
runs by the key's hash (``owner_of``), so no workspace reads another's.

A model that only the session that made it holds (an uploaded file, a copy taught on the Draw page) cannot be
opened by another session: it is kept by name only (``session_model``), on top of the last choice that can be
opened, so a reload says which model was left behind and opens that last choice instead.

A run that ended reading no better than the active model is offered, not made active (``offer``: its id), until
the learner takes it or keeps their model: the offer too is there after a reload.

A chosen run deleted since (in another tab, or by housekeeping), or a shared run whose link was withdrawn, is
*gone*: :meth:`Choices.choice` names it in :attr:`WorkspaceChoice.gone` and offers no model in its place, so
the default model is used, with a message that names the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from ann.service.queries import Queries
from ann.service.records import RunNotFound, owner_of


class ModelKind(StrEnum):
    """Where a chosen model comes from; stored as the first part of the ``choices.model`` column."""

    SHIPPED = "shipped"  # a model file shipped with the app (ann.models' name)
    RUN = "run"  # a run of this workspace (its id)
    SHARED = "shared"  # another workspace's run, opened through its share link (the link's token)
    SESSION = "session"  # uploaded or taught: only the browser session that made it holds it


@dataclass(frozen=True)
class ModelChoice:
    """A chosen model: where it comes from, what names it there, and its name for people ("Run 3")."""

    kind: ModelKind
    ident: str
    label: str

    @property
    def key(self) -> str:
        """``kind:ident``, as stored."""
        return f"{self.kind}:{self.ident}"

    @classmethod
    def parse(cls, key: str | None, label: str | None) -> ModelChoice | None:
        """The choice a stored ``key`` names; None for no key, or one this version does not know."""
        kind, _, ident = (key or "").partition(":")
        try:
            return cls(ModelKind(kind), ident, label or ident) if ident else None
        except ValueError:  # written by a newer version
            return None


@dataclass(frozen=True)
class WorkspaceChoice:
    """A workspace's choice as it stands now.

    Attributes
    ----------
    model : ModelChoice or None
        The model to open; None for the default shipped model.
    dataset : str or None
        The active dataset's key; None for the default (MNIST).
    session_model : str or None
        The name of a model chosen after ``model`` that only the session which made it holds.
    gone : ModelChoice or None
        The chosen run (or shared run) that is no longer on the server; ``model`` is None then.
    offer : str or None
        The id of a run of the workspace offered as the active model (None once it is gone).
    """

    model: ModelChoice | None = None
    dataset: str | None = None
    session_model: str | None = None
    gone: ModelChoice | None = None
    offer: str | None = None


class Choices(Queries):
    """Each workspace's active model and dataset (the ``choices`` table)."""

    def choice(self, workspace: str) -> WorkspaceChoice:
        """What the workspace chose; the defaults for a workspace that chose nothing (or a malformed key)."""
        try:
            owner = owner_of(workspace)
        except RunNotFound:
            return WorkspaceChoice()
        with self._db() as conn:
            row = conn.execute("SELECT model, model_label, session_model, dataset, offer FROM choices WHERE owner = ?",
                               (owner,)).fetchone()
        if row is None:
            return WorkspaceChoice()
        model = ModelChoice.parse(row["model"], row["model_label"])
        offer = row["offer"]
        if offer is not None and not self._still_here(workspace, ModelChoice(ModelKind.RUN, offer, offer)):
            offer = None
        if model is not None and not self._still_here(workspace, model):
            return WorkspaceChoice(None, row["dataset"], row["session_model"], gone=model, offer=offer)
        return WorkspaceChoice(model, row["dataset"], row["session_model"], offer=offer)

    def _still_here(self, workspace: str, model: ModelChoice) -> bool:
        """A chosen run is still in the workspace with a model to open (a shared one: its link still works)."""
        try:
            if model.kind == ModelKind.RUN:
                return self.get_run(workspace, model.ident).has_model
            if model.kind == ModelKind.SHARED:
                return self.get_shared(model.ident).has_model
        except RunNotFound:
            return False
        return True

    def choose_model(self, workspace: str, model: ModelChoice | None) -> None:
        """Keep the workspace's model choice (None: the default model). A :attr:`ModelKind.SESSION` model is
        kept by name only, over the last choice that another session can open."""
        if model is not None and model.kind == ModelKind.SESSION:
            self._upsert(workspace, session_model=model.label)
        else:
            self._upsert(workspace, model=model.key if model else None, model_label=model.label if model else None,
                         session_model=None)

    def choose_dataset(self, workspace: str, key: str | None) -> None:
        """Keep the workspace's active dataset (None: the default, MNIST)."""
        self._upsert(workspace, dataset=key)

    def offer(self, workspace: str, run_id: str | None) -> None:
        """Keep the run offered as the active model (None: no offer, taken or declined)."""
        self._upsert(workspace, offer=run_id)

    def _upsert(self, workspace: str, **values: str | None) -> None:
        owner = owner_of(workspace)
        columns = ", ".join(values)
        updates = ", ".join(f"{column} = excluded.{column}" for column in values)  # names from this module only
        with self._db(write=True) as conn:
            conn.execute(f"INSERT INTO choices (owner, {columns}, updated) VALUES (?, {', '.join('?' * len(values))}, ?)"
                         f" ON CONFLICT (owner) DO UPDATE SET {updates}, updated = excluded.updated",
                         (owner, *values.values(), time.time()))
