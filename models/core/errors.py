"""The library's one message type (`Message`: a code and its parameters), its two kinds —
`UserError` for problems the user can fix and `Notice` for things worth knowing about a
result — and the one range check of settings.

A message carries a stable `code` and the parameters its words need, and no words: the words,
in English and Chinese, are the "err.<code>" / "notice.<code>" strings in webapp/strings/, and
one renderer (webapp/text.py `render`) shows them, in the app and on the command lines (cli/).
Anything else that escapes models/ is a bug, and the UI reports it as one. `check_ranges` is how every settings
object (fine-tuning, pre-training, the scale calculator) refuses a value outside its limits;
each passes the function that words its own UserError.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping


class Message:
    """What the library tells the user: a stable `code` and the `params` its words use. The
    words are rendered in one place (webapp/text.py `render`), under "err.<code>" for errors and
    "notice.<code>" for notices. `message` is optional and never shown to a user when the code
    has words: a developer's description for logs (a bug's details)."""

    __slots__ = ()

    def _init(self, code: str, message: str, params: dict | None, extra: dict) -> None:
        self.code, self.message = code, message
        self.params = {**(params or {}), **extra}   # e.g. {"key": "gpt2"}

    @staticmethod
    def describe(code: str, params: Mapping | None, message: str = "") -> str:
        """The developer's form: `code(name=value, ...)`, then the description if any."""
        args = ", ".join(f"{k}={v!r}" for k, v in (params or {}).items())
        return f"{code}({args})" + (f": {message}" if message else "")

    def __str__(self) -> str:
        return self.describe(self.code, self.params, self.message)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "params": dict(self.params)}


class UserError(Message, Exception):
    """A problem the user can act on: bad input, unknown model, budget too small."""

    def __init__(self, code: str, message: str = "", params: dict | None = None, **extra):
        self._init(code, message, params, extra)
        Exception.__init__(self, str(self))


class Notice(Message):
    """Something the user should know about a result that is not an error (the text was cut,
    the corpus was capped)."""

    __slots__ = ("code", "message", "params")

    def __init__(self, code: str, message: str = "", params: dict | None = None, **extra):
        self._init(code, message, params, extra)

    def __repr__(self) -> str:
        return f"Notice({self.describe(self.code, self.params, self.message)})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Notice) and (self.code, self.message, self.params) == (
            other.code, other.message, other.params)

    __hash__ = None


def in_range(value, low: float, high: float) -> bool:
    """True when `value` is a finite number from `low` to `high`; None, text and NaN are not."""
    if isinstance(value, (str, bytes)):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and low <= number <= high


def check_ranges(values: Mapping[str, object], limits: Mapping[str, tuple[float, float]],
                 error: Callable[[str, object, float, float], UserError]) -> None:
    """Raise error(name, value, low, high) for the first of `values` (in their order) that is
    not in_range of limits[name]."""
    for name, value in values.items():
        low, high = limits[name]
        if not in_range(value, low, high):
            raise error(name, value, low, high)
