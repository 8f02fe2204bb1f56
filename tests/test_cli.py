"""The command lines (cli/) print the app's own English words for the library's messages:
the library carries a code and parameters only (models/core/errors.py), cli/__init__.py `say`
renders them through webapp/text.py, with no gradio."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli import say
from models.core.errors import Notice, UserError

ROOT = Path(__file__).resolve().parent.parent


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_say_prints_errors_and_notes_in_english(capsys):
    say(UserError("ft_one_class", label="spam"))
    say(Notice("duplicates", n=3))
    say(("truncated", "", {"n": 2, "max_length": 64}))    # a callback's (code, message, params)
    out = capsys.readouterr()
    assert out.err == ("error: Every row has the label 'spam'. A classifier needs at least two "
                       "classes to tell apart.\n")
    assert out.out.splitlines() == [
        "note: 3 duplicate rows were removed, so the same sentence cannot be in both training "
        "and validation.",
        "note: 2 texts are longer than 64 tokens; the model only sees their beginning. Raise "
        "Max length if the end matters."]


def test_fine_tuning_and_teaching_command_lines_word_their_errors(tmp_path):
    for module in ("cli.finetune", "cli.sft"):
        done = _run(module, "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o"))
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == ("error: The file missing.csv cannot be found: upload it "
                                       "again (or check its path)."), (module, done.stderr)


def test_users_command_line_words_its_errors(tmp_path):
    done = subprocess.run([sys.executable, "app.py", "users", "--cache-dir", str(tmp_path), "add",
                           "amy", "--role", "student"], cwd=ROOT, input="short\n",
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: A password has at least 8 characters."
