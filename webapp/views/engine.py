"""The line under an output that says which engine answered (app.py --engine-url): the
serving engine (with what that server does not give) or this app's own PyTorch worker."""
from __future__ import annotations

import html

from webapp.i18n import t


def answered_by(manager, key, lang: str) -> str:
    """HTML for the line, or "" when no engine is set up (then only this app answers)."""
    engine = getattr(manager, "engine", None)
    if engine is None or not key:
        return ""
    try:
        spec = manager.registry.get(key)
    except Exception:     # an unknown key: the run reported it already
        return ""
    if spec.source == "engine":
        text = t("engine.by_engine", lang, url=engine.url, model=spec.location)
        caps = engine.known()             # asked once, when the first run started
        missing = caps.missing() if caps is not None else []
        if missing:
            text += " " + t("engine.missing", lang, what="; ".join(
                t(f"engine.missing.{code}", lang) for code in missing))
        cls = "engine-remote"
    else:
        text = t("engine.by_local", lang, device=manager.device.describe())
        cls = "engine-local"
    return (f'<div class="answered-by {cls}" id="gen-answered-by" role="status">'
            f'<small>⚙️ {html.escape(text)}</small></div>')


def surprisal_note(manager, lang: str) -> str:
    """With a serving engine set up: a plain line saying that surprisal was computed by this
    app's own worker, and why (what the server gives, as probed: `transformers serve` gives no
    prompt log-probabilities). "" without an engine."""
    engine = getattr(manager, "engine", None)
    if engine is None:
        return ""
    caps = engine.known()
    if caps is None:
        try:
            caps = engine.probe()
        except Exception:  # noqa: BLE001  (unreachable: the note says so, the run went on)
            caps = None
    if caps is None:
        why = t("engine.surprisal_unreachable", lang)
    elif "prompt_logprobs" in caps.missing():
        why = t("engine.surprisal_no_prompt", lang)
    else:
        why = t("engine.surprisal_top", lang)
    return t("engine.surprisal_local", lang, device=manager.device.describe(), url=engine.url,
             why=why)
