"""Experiments (being written)."""

import streamlit as st

from ui import shell

shell.page_start()
st.title("Experiments")
