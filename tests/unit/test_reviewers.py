"""Reviewer accounts (sentiment.ops.reviewers) and ``python -m sentiment.users``."""

from __future__ import annotations

import io
import stat

import pytest

from sentiment import config, users
from sentiment.ops.reviewers import (
    ReviewerError,
    check_sign_in,
    hash_password,
    read_reviewers,
    set_reviewer,
    verify_password,
)


def test_hashes_are_salted_and_checked(tmp_path):
    one, two = hash_password("same password"), hash_password("same password")
    assert one != two  # a salt of its own each time
    assert one.startswith(f"scrypt${config.SCRYPT_N}$")
    assert verify_password("same password", one)
    assert not verify_password("same passwort", one)
    assert not verify_password("same password", one[:-2] + "00")
    assert not verify_password("same password", "md5$abc")  # not ours: refused


def test_accounts_file_is_owner_only_and_holds_no_password(tmp_path):
    path = tmp_path / "users.toml"
    assert set_reviewer(path, "ana", "correct horse battery")
    assert not set_reviewer(path, "ana", "a new long password")  # changed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "a new long password" not in path.read_text()
    assert list(read_reviewers(path)) == ["ana"]
    assert check_sign_in(path, "ana", "a new long password")
    assert not check_sign_in(path, "ana", "correct horse battery")
    assert not check_sign_in(path, "bo", "a new long password")


@pytest.mark.parametrize(
    "name, password, message",
    [("ana", "short", "at least"), ("../x", "a long password!", "names are")],
)
def test_bad_names_and_short_passwords_are_refused(tmp_path, name, password, message):
    with pytest.raises(ReviewerError, match=message):
        set_reviewer(tmp_path / "users.toml", name, password)
    assert not (tmp_path / "users.toml").exists()


def test_a_broken_accounts_file_says_what_to_do(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text("[reviewers\n")
    with pytest.raises(ReviewerError, match="sentiment.users add"):
        check_sign_in(path, "ana", "whatever password")


def test_users_command_adds_lists_and_removes(tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.toml"
    monkeypatch.setenv(config.USERS_FILE_ENV, str(path))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password here\n"))
    assert users.main(["add", "ana", "--password-stdin"]) == 0
    assert check_sign_in(path, "ana", "a long password here")
    assert users.main(["list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "ana"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert users.main(["add", "bo", "--password-stdin"]) == 2
    assert users.main(["remove", "ana"]) == 0 and read_reviewers(path) == {}
    assert users.main(["remove", "ana"]) == 2
    assert "No reviewer" in capsys.readouterr().err
