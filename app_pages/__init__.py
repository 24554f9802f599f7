"""The pages of the Streamlit app; app.py is the frame that runs them.

Each page file is run by ``st.navigation`` as a script (``__name__`` is
``"__main__"``), and calls its ``render`` with the frame's ``PageContext``.
Imported as a module, a page draws nothing.
"""
