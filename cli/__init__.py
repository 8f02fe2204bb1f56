"""The command lines: the library's work printed instead of shown, in the app's own words.

    python -m cli.finetune --data ... --out ...     (models/training/finetune/)
    python -m cli.sft --data ... --out ...          (models/training/sft/; also under
                                                     `accelerate launch -m cli.sft`)
    python app.py users add|remove|list ...         (cli/users.py: classroom logins)

Messages from models/ carry a code and parameters only; `say` words them in English through
the app's one renderer (webapp/text.py, which never imports gradio).
"""
from __future__ import annotations

import sys

from webapp.text import render


def say(msg, file=None) -> None:
    """Print a UserError or Notice (or a notice's (code, message, params)) in English:
    "error: ..." for an error, "note: ..." for a notice."""
    from models.core.errors import UserError
    prefix = "error" if isinstance(msg, UserError) else "note"
    print(f"{prefix}: {render(msg, 'en')}", file=file or (sys.stderr if prefix == "error"
                                                          else sys.stdout), flush=True)
