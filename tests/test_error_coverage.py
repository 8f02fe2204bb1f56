"""Every UserError code the app can raise is driven by a test, in English and Chinese.

The codes are read from the source (models/ and webapp/); the tables are the `CASES` lists in
tests/test_errors_*.py (see tests/messages.py). A code nothing raises has no Chinese text to
keep; a code no table lists fails here with its name."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

from webapp.i18n import STRINGS

ROOT = Path(__file__).resolve().parent.parent
RAISED = re.compile(r"UserError\(\s*[\"']([a-z][a-z_0-9]*)[\"']")


def raised_codes() -> set[str]:
    codes = set()
    for folder in ("models", "webapp"):
        for path in (ROOT / folder).rglob("*.py"):
            codes |= set(RAISED.findall(path.read_text(encoding="utf-8")))
    return codes


def tabled_codes() -> set[str]:
    codes = set()
    for path in sorted((ROOT / "tests").glob("test_errors_*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        codes |= {row[0] for row in getattr(module, "CASES", [])}
        codes |= set(getattr(module, "DIRECT_CODES", ()))
    return codes


def test_every_raised_code_is_driven_by_a_table():
    missing = sorted(raised_codes() - tabled_codes())
    assert not missing, f"error codes no test drives: {missing}"


def test_every_raised_code_has_chinese():
    missing = sorted(c for c in raised_codes() if not STRINGS.get(f"err.{c}", ("", ""))[1])
    assert not missing, f"error codes without Chinese text: {missing}"


NOTICED = re.compile(r"Notice\(\s*f?[\"']([a-z][a-z_0-9]*)(\{[a-z_]+\})?[\"']")
NOTICE_STEMS = {"att_cut_": ("text", "target"),          # models/runners/attention.py: by part
                "better_offline_": ("summarize", "translate", "answer")}   # applications/advice.py


def test_every_notice_of_the_library_can_be_read_in_chinese():
    """Every Notice code in models/ has its "notice.<code>" text in Chinese (webapp/i18n.py
    render shows it); codes built from a stem list every ending."""
    codes = set()
    for path in (ROOT / "models").rglob("*.py"):
        for code, tail in NOTICED.findall(path.read_text(encoding="utf-8")):
            codes |= {code + end for end in NOTICE_STEMS[code]} if tail or code in NOTICE_STEMS \
                else {code}
    assert len(codes) > 20
    missing = sorted(c for c in codes if not STRINGS.get(f"notice.{c}", ("", ""))[1])
    assert not missing, f"notices without Chinese text: {missing}"
