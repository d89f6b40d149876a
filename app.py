"""ANN Explorer, the dashboard: ``streamlit run app.py``.

The entry file: it runs the frame (page set-up, navigation, the sidebar saying which model is active;
see ``ui/shell.py``), which runs the page the URL asks for, Home by default. Each page is a short file in
``pages/`` that calls ``ann`` (the network, plain NumPy) and draws what it returns; the pieces the pages
share are in ``ui/``.
"""

from ui import serving

# Streamlit's server made cheaper under a class (ui.serving) before the frame's imports (NumPy, the network)
serving.install()

from ui.shell import run_app  # noqa: E402 -- after the line above, on purpose

run_app()
