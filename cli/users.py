"""Classroom logins on the command line (models/core/accounts.py keeps them):

    python app.py users add NAME --role teacher|student     (password read from stdin)
    python app.py users remove NAME
    python app.py users list
    (`--cache-dir DIR` before the command when the app runs with one;
     `python -m cli.users ...` does the same)

Errors are printed in the app's English words (cli/__init__.py `say`).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from cli import say
from models.core.accounts import DB_NAME, ROLES, Accounts
from models.core.errors import UserError

DEFAULT_CACHE = os.environ.get("LLM_EXPLORER_HOME",           # the app's --cache-dir default
                               str(Path.home() / ".cache" / "llm-explorer"))


def _read_password(stdin) -> str:
    """The password from stdin: typed twice at a terminal (not echoed), or the first line of
    a pipe (`echo secret | python app.py users add ...`). Never from the command line."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise UserError("user_password_mismatch")
        return first
    return stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None, cache_dir: str = DEFAULT_CACHE, stdin=None,
         out=None) -> int:
    stdin, out = stdin or sys.stdin, out or sys.stdout
    p = argparse.ArgumentParser(prog="app.py users", description="Manage classroom logins "
                                "(the password is read from stdin).")
    p.add_argument("--cache-dir", default=cache_dir, help="the app's cache folder (where "
                   f"{DB_NAME} lives); the same as the app's --cache-dir")
    sub = p.add_subparsers(dest="cmd", required=True)
    add = sub.add_parser("add", help="add a user; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    rm = sub.add_parser("remove", help="remove a user")
    rm.add_argument("name")
    sub.add_parser("list", help="list the users")
    args = p.parse_args(argv)
    accounts = Accounts(Path(args.cache_dir))
    try:
        if args.cmd == "add":
            name = accounts.add(args.name, _read_password(stdin), args.role)
            print(f"added {name} ({args.role}) to {accounts.path}", file=out)
        elif args.cmd == "remove":
            accounts.remove(args.name)
            print(f"removed {args.name}", file=out)
        else:
            for row in accounts.users():
                print(f"{row['name']}\t{row['role']}", file=out)
    except UserError as exc:
        say(exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
