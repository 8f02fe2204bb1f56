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
