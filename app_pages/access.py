"""Sign-in for the pages that show logged posts and store corrections.

Monitoring and Review call :func:`reviewer_or_stop` first: a visitor who has
not signed in gets a sign-in form and nothing else, and the page stops there.
Names and passwords are checked against the salted hashes of the reviewer
accounts file (``python -m sentiment.users add NAME``; see
sentiment.ops.reviewers). The signed-in name lives in this browser session's
server-side state, is recorded with every correction, and is gone when the
session ends (a reload of the page signs out).
"""

from __future__ import annotations

import streamlit as st

from app_pages.shared import escape_markdown
from sentiment import config
from sentiment.ops.reviewers import ReviewerError, check_sign_in

# Not a widget key: a browser can set widgets' values, never this.
REVIEWER_KEY = "signed_in_reviewer"
NAME_KEY = "sign_in_name"
PASSWORD_KEY = "sign_in_password"


def reviewer_or_stop(page: str) -> str:
    """The signed-in reviewer's name; otherwise a sign-in form, then stop."""
    name = st.session_state.get(REVIEWER_KEY)
    if name:
        signed_in_ui(name)
        return name
    st.subheader("Sign in")
    st.info(
        f"The {page} page shows logged posts and stores corrections, so it is for "
        "reviewers only. Sign in with your reviewer name and password."
    )
    path = config.users_file_from_env()
    if not path.is_file():
        st.warning(
            "No reviewer accounts are set up yet. On the server, run "
            "`python -m sentiment.users add NAME` (accounts go to "
            f"`{escape_markdown(str(path))}`, or to ${config.USERS_FILE_ENV})."
        )
        st.stop()
    with st.form("sign_in"):
        st.text_input("Name", key=NAME_KEY)
        st.text_input("Password", type="password", key=PASSWORD_KEY)
        st.form_submit_button("Sign in", type="primary", on_click=_sign_in)
    error = st.session_state.pop("sign_in_error", None)
    if error:
        st.error(error)
    st.stop()


def _sign_in() -> None:
    """Form callback: check the name and password; never keep the password."""
    name = str(st.session_state.get(NAME_KEY) or "").strip()
    password = str(st.session_state.pop(PASSWORD_KEY, "") or "")
    try:
        ok = bool(name) and check_sign_in(config.users_file_from_env(), name, password)
    except ReviewerError as e:
        st.session_state["sign_in_error"] = escape_markdown(str(e))
        return
    if ok:
        st.session_state[REVIEWER_KEY] = name
    else:
        st.session_state["sign_in_error"] = "Wrong name or password."


def _sign_out() -> None:
    st.session_state.pop(REVIEWER_KEY, None)


def signed_in_ui(name: str) -> None:
    """Who is signed in, and a way out, in the sidebar."""
    with st.sidebar:
        st.caption(f"Signed in as **{escape_markdown(name)}** (reviewer).")
        st.button("Sign out", on_click=_sign_out)
