"""One exception type for problems the user can fix, and the one range check of settings.

`UserError` carries a stable `code` (the UI translates it, see webapp/i18n.py) and an
English message that already says what happened and what to do. Anything else that
escapes models/ is a bug, and the UI reports it as one. `check_ranges` is how every settings
object (fine-tuning, pre-training, the scale calculator) refuses a value outside its limits;
each passes the function that words its own UserError.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping


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
