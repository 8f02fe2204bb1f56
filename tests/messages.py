"""Helpers for the error-message tables (tests/test_errors_<area>.py).

Each table is a module-level `CASES` list of `(code, api_name, args)`: calling the app's API
endpoint `api_name` with `args` (where `LANG` stands for the language) must fail with the
message of UserError `code`. tests/test_error_coverage.py checks every code raised in models/
or webapp/ is listed in some table; each table's test drives its cases in English and Chinese.
"""
from __future__ import annotations

import functools
import html
import re

import pytest

LANG = object()   # stands for the language argument in a CASES row

_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z_0-9!:.]*\}")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@functools.lru_cache(maxsize=4)
def _client(app_url: str):
    from gradio_client import Client
    return Client(app_url, verbose=False)


def api_error(app_url: str, api_name: str, args, lang: str) -> str:
    """The message a user of `api_name` gets for `args`, in `lang`. Fails if the call succeeds."""
    args = [lang if a is LANG else a for a in args]
    with pytest.raises(Exception) as err:
        _client(app_url).predict(*args, api_name=api_name)
    return str(err.value)


def check_message(text: str, lang: str) -> None:
    """A message a user can read: not empty, no `{placeholder}` left, not the catch-all bug
    message, and in the user's language (Chinese characters for "zh", none for "en")."""
    assert text.strip(), "empty message"
    assert not _PLACEHOLDER.search(text), f"placeholder left in {text!r}"
    assert "Something went wrong inside the app" not in text and "应用内部出错" not in text, text
    if lang == "zh":
        assert _CJK.search(text), f"not Chinese: {text!r}"


_FIELD = re.compile(r"\{[^{}]*\}")


def words_of(code: str, lang: str) -> re.Pattern:
    """The words of UserError `code` in `lang` ("err.<code>" in webapp/strings/, English where
    the Chinese is missing, as webapp/text.py `t` falls back) as a pattern in which each
    {parameter} stands for any text: an API client gets only the words, so the words are how a
    test tells which code it met."""
    from webapp.text import STRINGS
    en, zh = STRINGS[f"err.{code}"]
    template = (zh or en) if lang == "zh" else en
    template = template.replace("{{", "\0").replace("}}", "\1")
    parts = [re.escape(p.replace("\0", "{").replace("\1", "}")) for p in _FIELD.split(template)]
    return re.compile(".*?".join(parts), re.S)


def check_code(text: str, code: str, lang: str) -> None:
    """`text` (as an API client or the page shows it) is the message of UserError `code`."""
    assert words_of(code, lang).search(html.unescape(text)), \
        f"expected the message of {code!r}, got {text!r}"


def run_cases(app_url: str, cases, lang: str, contains: dict | None = None) -> None:
    """Drive every row: the call fails with the message of the row's code, readable in `lang`;
    `contains` may map a code to a (en, zh) pair of words the text has."""
    for code, api_name, args in cases:
        text = api_error(app_url, api_name, args, lang)
        check_message(text, lang)
        check_code(text, code, lang)
        if contains and code in contains:
            want = contains[code][0 if lang == "en" else 1]
            assert want in text, f"{code}: {want!r} not in {text!r}"


def check_raised(call, code: str) -> None:
    """`call()` raises the UserError `code`, whose message reads right in English and Chinese
    (for the codes no API call can reach: the handler is called directly)."""
    from models.core.errors import UserError
    from webapp.common import message_text
    with pytest.raises(UserError) as err:
        call()
    assert err.value.code == code, err.value
    for lang in ("en", "zh"):
        check_message(message_text(err.value, lang), lang)


def english(msg) -> str:
    """A UserError or Notice (or a job's notice dict) as an English-speaking user reads it: the
    library carries only a code and params, the words come from webapp/text.py `render`."""
    from models.core.errors import Message
    from webapp.text import render
    if not isinstance(msg, (Message, dict, tuple, list)):
        return str(msg)                                   # already words (a gr.Error)
    return render(msg, "en")
