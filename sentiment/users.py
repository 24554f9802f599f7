"""``python -m sentiment.users``: the reviewers who may sign in to the page's
Monitoring and Review pages.

    python -m sentiment.users add NAME        # asks for the password twice
    python -m sentiment.users add NAME --password-stdin < password.txt
    python -m sentiment.users remove NAME
    python -m sentiment.users list

Accounts are salted scrypt hashes in $SENTIMENT_USERS_FILE (default
secrets/users.toml, which git and the Docker build ignore); the page reads the
file at each sign-in, so changes apply without a restart. Adding an existing
name sets a new password.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Sequence

from sentiment import cli, config
from sentiment.ops.reviewers import (
    ReviewerError,
    read_reviewers,
    remove_reviewer,
    set_reviewer,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.users``; returns the exit code."""
    cli.setup_logging()
    parser = cli.parser_for("users", __doc__)
    parser.add_argument("action", choices=["add", "remove", "list"])
    parser.add_argument("name", nargs="?")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    args = parser.parse_args(argv)
    if (args.name is None) != (args.action == "list"):
        parser.error("add and remove take a NAME; list takes none")
    return cli.run(lambda: _users(args))


def _users(args: argparse.Namespace) -> int:
    path = config.users_file_from_env()
    if args.action == "list":
        for name in sorted(read_reviewers(path)):
            print(name)
        return 0
    if args.action == "remove":
        if not remove_reviewer(path, args.name):
            raise ReviewerError(f"No reviewer {args.name!r} in {path}.")
        print(f"Removed {args.name} from {path}.")
        return 0
    is_new = set_reviewer(path, args.name, _password(args.password_stdin))
    print(f"{'Added' if is_new else 'New password for'} {args.name.strip()} in {path}.")
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ReviewerError("The two passwords differ; nothing was changed.")
    return first


if __name__ == "__main__":
    sys.exit(main())
