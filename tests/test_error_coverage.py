"""Every UserError code the app can raise is driven by a test, in English and Chinese, and the
library says no words itself.

The codes are read from the source (models/, webapp/ and cli/); the tables are the `CASES`
lists in tests/test_errors_*.py (see tests/messages.py). A code nothing raises has no text to
keep; a code no table lists fails here with its name. models/ says what happened (a code and
its parameters) and webapp/strings/ says it in words: no `UserError(code, "a sentence")` or
`Notice(code, "a sentence")` in models/ (read from the syntax tree)."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from webapp.i18n import STRINGS

ROOT = Path(__file__).resolve().parent.parent
RAISED = re.compile(r"UserError\(\s*[\"']([a-z][a-z_0-9]*)[\"']")


def raised_codes() -> set[str]:
    codes = set()
    for folder in ("models", "webapp", "cli"):
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


def test_every_raised_code_has_english_and_chinese():
    for lang, i in (("English", 0), ("Chinese", 1)):
        missing = sorted(c for c in raised_codes() if not STRINGS.get(f"err.{c}", ("", ""))[i])
        assert not missing, f"error codes without {lang} text: {missing}"


NOTICED = re.compile(r"Notice\(\s*f?[\"']([a-z][a-z_0-9]*)(\{[a-z_]+\})?[\"']")
NOTICE_STEMS = {"att_cut_": ("text", "target"),          # models/runners/attention.py: by part
                "better_offline_": ("summarize", "translate", "answer")}   # applications/advice.py


def test_every_notice_of_the_library_can_be_read_in_english_and_chinese():
    """Every Notice code in models/ has its "notice.<code>" text in English and Chinese
    (webapp/text.py render shows it); codes built from a stem list every ending."""
    codes = set()
    for path in (ROOT / "models").rglob("*.py"):
        for code, tail in NOTICED.findall(path.read_text(encoding="utf-8")):
            codes |= {code + end for end in NOTICE_STEMS[code]} if tail or code in NOTICE_STEMS \
                else {code}
    assert len(codes) > 20
    for lang, i in (("English", 0), ("Chinese", 1)):
        missing = sorted(c for c in codes if not STRINGS.get(f"notice.{c}", ("", ""))[i])
        assert not missing, f"notices without {lang} text: {missing}"


def _worded(node: ast.Call) -> bool:
    """A message call that carries words: UserError / Notice (or a subclass: a class called
    with a code that has strings) with a second positional argument (the old English message),
    or a job's / callback's notice(code, "a sentence")."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    first = node.args[0] if node.args else None
    is_code = isinstance(first, ast.Constant) and isinstance(first.value, str) and (
        f"err.{first.value}" in STRINGS or f"notice.{first.value}" in STRINGS)
    if name in ("UserError", "Notice") or is_code and name[:1].isupper():
        return len(node.args) > 1
    if name in ("notice", "on_notice") and len(node.args) > 1:
        words = node.args[1]
        return isinstance(words, (ast.JoinedStr, ast.BinOp)) or (
            isinstance(words, ast.Constant) and bool(words.value))
    return False


def test_the_library_carries_no_sentences():
    """models/ raises and notices by code and parameters only; the words live in
    webapp/strings/ (README "Architecture"). Any message call with a sentence fails here."""
    found = []
    for path in sorted((ROOT / "models").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{rel}:{n.lineno}" for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and _worded(n)]
    assert not found, f"messages with words inside models/: {found}"


def test_chinese_words_use_only_what_the_english_is_given():
    """A message's Chinese never needs a parameter its English does not use: both are written
    from the same call (code + params), so a name only one side knows is a typo."""
    names = lambda text: set(re.findall(r"\{(\w+)", text or ""))
    odd = sorted(key for key, (en, zh) in STRINGS.items()
                 if key.startswith(("err.", "notice.")) and en and zh and names(zh) - names(en))
    assert not odd, f"Chinese text with parameters the English does not have: {odd}"
