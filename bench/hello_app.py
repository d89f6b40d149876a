"""The hello-world floor of ``bench/classroom.py``: the least a Streamlit app of this shape costs a server.

``st.navigation`` with one page, a title, a line of text and a button, as issue #14 defines it. Every figure
of the classroom bench is a ratio against this app, measured in the same run on the same core.
"""

import streamlit as st


def hello() -> None:
    st.title("Hello")
    st.write("A line of text.")
    st.button("A button")


st.navigation([st.Page(hello, title="Hello", default=True)]).run()
