"""The language switch relabels the interface but never throws away what the user typed."""
from __future__ import annotations

import gradio as gr

from webapp.i18n import STRINGS, Localizer, t


def test_switch_relabels_and_swaps_only_untouched_examples():
    loc = Localizer("en")
    with gr.Blocks():
        button = loc.Button(value_key="gen.run")
        untouched = loc.Textbox(label_key="gen.prompt", value_key="gen.prompt_value")
        edited = loc.Textbox(label_key="gen.prompt", value_key="gen.prompt_value")
    assert loc.typed_inputs() == [untouched, edited]
    ups = loc.updates("zh", t("gen.prompt_value", "en"), "my own question")
    by_comp = dict(zip(loc.components(), ups))
    assert by_comp[button]["value"] == "生成"
    assert by_comp[untouched]["value"] == t("gen.prompt_value", "zh")
    assert "value" not in by_comp[edited] and by_comp[edited]["label"] == "提示词"


def test_every_string_has_chinese_and_english():
    # English may be empty only for messages whose English comes from models/ (error and
    # warning codes); everything else is written in both languages.
    no_zh = [k for k, (_en, zh) in STRINGS.items() if not zh]
    no_en = [k for k, (en, _zh) in STRINGS.items()
             if not en and not k.startswith(("err.", "notice."))]
    assert no_zh == [] and no_en == []
