"""The language switch for Gradio components.

The strings and the one renderer of the library's messages live in webapp/text.py (no gradio,
so the command lines in cli/ use them too) and are re-exported here. Tabs create components
through `Localizer` (`loc.Button(value_key="gen.run")`), which remembers which property shows
which key, so the language switch can relabel everything at once.
"""
from __future__ import annotations

import functools

import gradio as gr

from webapp.text import (LANGS, STRINGS, job_error_text, localize_status,  # noqa: F401
                         progress_words, render, t)               # (re-exported)


class Localizer:
    """Builds Gradio components whose text follows the language switch.

    `loc.Textbox(label_key="gen.prompt", lines=4)` creates gr.Textbox(label=<text>, lines=4) and
    remembers (component, {"label": "gen.prompt"}); `updates(lang)` relabels all of them.
    Any keyword ending in `_key` names a string key for that property.
    """

    def __init__(self, lang: str = "en"):
        self.lang = lang if lang in LANGS else "en"
        self._entries: list[tuple[gr.components.Component, dict[str, str]]] = []

    def __getattr__(self, name: str):
        cls = getattr(gr, name)
        return functools.partial(self.make, cls)

    def make(self, cls, **kwargs):
        keys = {k[:-4]: v for k, v in kwargs.items() if k.endswith("_key")}
        plain = {k: v for k, v in kwargs.items() if not k.endswith("_key")}
        comp = cls(**plain, **{prop: t(key, self.lang) for prop, key in keys.items()})
        self._entries.append((comp, keys))
        return comp

    def components(self) -> list:
        return [c for c, _ in self._entries]

    def _typed(self) -> list[int]:
        """Entries whose translated value is text the user may have edited (Textbox)."""
        return [i for i, (c, keys) in enumerate(self._entries)
                if "value" in keys and isinstance(c, gr.Textbox)]

    def typed_inputs(self) -> list:
        """Components whose current value `updates` needs, so it never overwrites user text."""
        return [self._entries[i][0] for i in self._typed()]

    def updates(self, lang: str, *current) -> list:
        """Relabel everything in `lang`. An example text is swapped for the other language's
        example only while it is still the untouched example: what the user typed stays."""
        typed = dict(zip(self._typed(), current))
        out = []
        for i, (_comp, keys) in enumerate(self._entries):
            props = {prop: t(key, lang) for prop, key in keys.items()}
            if i in typed and typed[i] not in {t(keys["value"], x) for x in LANGS}:
                props.pop("value")
            out.append(gr.update(**props))
        return out
