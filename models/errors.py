"""One exception type for problems the user can fix.

`UserError` carries a stable `code` (the UI translates it, see webapp/i18n.py) and an
English message that already says what happened and what to do. Anything else that
escapes models/ is a bug, and the UI reports it as one.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can act on: bad input, unknown model, budget too small."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params  # values the translated message may use, e.g. {"key": "gpt2"}

    def __str__(self) -> str:
        return self.message


class Notice:
    """Something the user should know about a result that is not an error (the text was cut,
    the corpus was capped). Like UserError it has a stable `code` the UI translates (key
    "notice.<code>") with `params`; `message` is the English text."""

    __slots__ = ("code", "message", "params")

    def __init__(self, code: str, message: str, **params):
        self.code, self.message, self.params = code, message, params

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Notice({self.code!r}, {self.message!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Notice) and (self.code, self.message, self.params) == (
            other.code, other.message, other.params)
