"""What reaches a handler and what a message repeats of it (webapp/common.py `readable`,
webapp/text.py `render`): text every library can encode, and never a whole paste echoed back."""
from __future__ import annotations

from models.core.errors import UserError
from webapp.common import readable
from webapp.text import QUOTED_CHARS, render


def test_lone_surrogates_become_replacement_characters_everywhere_in_the_arguments():
    got = readable(("ab\ud800c", ["\udfff"], {"k": "ok \U0001F642"}, 3, None))
    assert got == ("ab\ufffdc", ["\ufffd"], {"k": "ok \U0001F642"}, 3, None)
    assert all(s.encode("utf-8") for s in (got[0], got[1][0]))


def test_a_message_quotes_only_the_start_of_a_long_input():
    paste = "Quarterly profits rose. " * 40_000
    for lang in ("en", "zh"):
        text = render(UserError("unknown_model", key=paste), lang)
        assert len(text) < QUOTED_CHARS + 200 and "Quarterly profits" in text and "…" in text
    short = render(UserError("unknown_model", key="gpt-17"), "en")
    assert "gpt-17" in short and "…" not in short
