"""The dashboard's shared pieces; ``ann/`` stays free of Streamlit and these modules only call it.

- :mod:`ui.shell`      the frame every page runs in: navigation, the status banner, the sidebar
- :mod:`ui.workspace`  the visitor's workspace (its cookie key), the run store and the training service
- :mod:`ui.state`      each session's model: the shipped models, its own, runs as models, the picker
- :mod:`ui.datasets`   the active dataset: the picker, downloads of the named sets, uploads of one's own
- :mod:`ui.downloads`  MNIST's files: ready or not, the shared copy, the download with progress
- :mod:`ui.run_panels` a run's live view, its controls and its curves; :mod:`ui.charts` the Altair charts
- the rest: one view each (confusion matrix, pictures, digits, diagrams, the lab's views, findings)
"""
