"""The Attention tab's handlers and pictures, without a browser: the tab is built alone in a
Blocks with a tiny-model manager, and its handlers are called the way Gradio calls them."""
from __future__ import annotations

import html
import re

import gradio as gr
import numpy as np
import pytest

from models.runners.attention import extract
from webapp.views import attention as views

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def lab(tiny_models, tmp_path_factory):
    """(demo, manager, keys, fns): the attention tab built alone; fns by api_name."""
    from models.core.device import pick_device
    from models.core.jobs import JobRunner
    from models.core.manager import ModelManager
    from models.core.registry import Registry
    from webapp.tabs import attention as tab_attention
    from webapp.common import AppContext
    from webapp.i18n import Localizer

    manager = ModelManager(Registry(tmp_path_factory.mktemp("att-ui"), online=False),
                           pick_device("cpu"))
    keys = {n: manager.register_local(str(tiny_models[n]), f"tiny-{n}").key
            for n in ("bert", "llama", "t5")}
    loc = Localizer("en")
    with gr.Blocks() as demo:
        lang = gr.Radio(["en", "zh"], value="en")
        with gr.Tabs() as tabs:
            ctx = AppContext(manager=manager, jobs=JobRunner("test"), loc=loc, lang=lang, tabs=tabs)
            with gr.Tab("Attention", id=tab_attention.TAB_ID):
                tab_attention.build(ctx)
    fns = {f.api_name: f.fn for f in demo.fns.values() if f.api_name}
    return demo, manager, keys, fns, ctx


def _result(lab, name, text, target=""):
    _, manager, keys, _, _ = lab
    with manager.use(keys[name]) as lm:
        return extract(lm, text, target).compact()


def test_cross_tab_contract_is_published(lab):
    *_, ctx = lab
    link = ctx.attention
    assert isinstance(link.model, gr.Dropdown) and link.model.allow_custom_value
    assert isinstance(link.text, gr.Textbox) and isinstance(link.target, gr.Textbox)
    fn, inputs, outputs = link.run, link.inputs, link.outputs
    assert callable(fn) and link.model in inputs and link.target in inputs
    assert len(outputs) >= 5


def test_run_handler_draws_one_head_and_keeps_the_tensor_server_side(lab):
    _, _, keys, _, ctx = lab
    fn, inputs, outputs = ctx.attention.run, ctx.attention.inputs, ctx.attention.outputs
    out = fn(keys["llama"], "the cat sat on the mat", "the dog ran", "self", 1, 3, True,
             "entropy", "en")
    assert len(out) == len(outputs)
    handle, info, fig = out[0], out[1], out[6]
    # the session keeps a handle; the weights stay in the app's one store
    # (models/runners/attention.py ViewStore)
    assert isinstance(handle, str) and len(handle) < 64
    result = ctx.attention_views.get(handle)
    assert result.maps["self"].weights.shape[:2] == (2, 4)
    assert "GQA" in info or "Grouped-query" in info
    z = np.asarray(fig.data[0].z)
    b = result.boundary
    # "only the continuation": the rows are the generated tokens, the columns every token
    assert z.shape == (len(result.tokens) - b, len(result.tokens))
    np.testing.assert_allclose(z, result.maps["self"].weights[1, 3, b:], atol=1e-6)
    assert list(fig.data[0].y) == list(range(b, len(result.tokens)))


def _synthetic(tokens, layers=2, heads=3):
    """An AttentionMap with chosen tokens (tiny tokenizers cannot produce HTML-like tokens)."""
    from models.runners.attention import AttentionMap
    n = len(tokens)
    w = np.random.default_rng(0).random((layers, heads, n, n)).astype(np.float32)
    return AttentionMap("self", "self", list(tokens), list(tokens), w / w.sum(-1, keepdims=True))


def test_heatmap_keeps_repeated_tokens_apart_and_escapes_labels():
    amap = _synthetic(["the", "cat", "the", "cat", EVIL])
    fig = views.heatmap(amap, 1, 2)
    ticks = list(fig.layout.xaxis.ticktext)
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2, 3, 4]
    assert ticks.count("the") == 2                        # two separate columns, not merged
    assert not any("<" in t for t in ticks + list(fig.layout.yaxis.ticktext))
    assert "&lt;img src=x" in ticks[4]
    assert "<img" not in fig.to_json()
    np.testing.assert_allclose(np.asarray(fig.data[0].z), amap.weights[1, 2], atol=1e-6)


def test_markdown_tokens_are_escaped():
    s = views.md_token(EVIL + " $x$ *b*")
    assert "<" not in s and "$" not in s and "\\*b\\*" in s


def test_bertviz_page_is_offline_and_token_safe():
    from models.runners.attention import AttentionResult
    amap = _synthetic(["[CLS]", "</script><script>alert(1)</script>", EVIL, "[SEP]"])
    result = AttentionResult("k", "m", "encoder", {"self": amap}, amap.query_tokens)
    doc, message = views.bertviz_page(result, "head", 1)
    assert message == ""                                    # small input: everything shown
    assert doc.count('"left_text"') == 1                     # the weights are sent once
    own = doc
    for name in ("d3-5.7.0.min.js", "jquery-2.2.4.min.js"):   # vendored code, inlined whole
        code = views._vendor(name)
        assert code in own
        own = own.replace(code, "")
    scripts = re.findall(r"<script\b[^>]*>", own)
    assert scripts == ["<script>"] * 4                       # d3, jQuery, shim, bertviz; no src=
    markup = re.sub(r"<script>.*?</script>", "", own, flags=re.S)
    assert not re.search(r"\b(src|href)\s*=", markup)     # nothing to fetch
    assert "require.min.js" not in own
    assert "Content-Security-Policy" in doc and "default-src 'none'" in doc
    assert own.count("</script>") == 4                       # the token did not close a script
    assert "<\\/script><\\script>alert(1)" in own
    frame = views.iframe(doc)
    assert frame.startswith('<iframe class="att-bertviz" sandbox="allow-scripts"')
    assert "<script" not in frame                             # srcdoc is attribute-escaped
    assert html.unescape(frame.split('srcdoc="', 1)[1].rsplit('"', 1)[0]) == doc


def test_bertviz_is_capped_with_a_message(lab):
    result = _result(lab, "bert", " ".join(["the cat sat on the mat"] * 20))
    n = len(result.tokens)
    doc, message = views.bertviz_page(result, "model", 0, budget=4 * 30 * 30)
    assert "first 30" in message and str(n) in message
    small, _ = views.bertviz_page(result, "model", 0, budget=10**9)
    assert len(doc) < len(small)
    doc2, message2 = views.bertviz_page(result, "head", 1, budget=4 * n * n)
    assert "layers 1–1 of 2" in message2


def test_bertviz_seq2seq_has_encoder_decoder_cross(lab):
    result = _result(lab, "t5", "the cat sat", "the dog")
    doc, _ = views.bertviz_page(result, "head", 0)
    for name in ("Encoder", "Decoder", "Cross"):
        assert f">{name}</option>" in doc


def test_one_head_is_far_smaller_than_the_bertviz_payload(lab):
    result = _result(lab, "bert", " ".join(["the cat sat on the mat"] * 12))
    fig = views.heatmap(result.maps["self"], 0, 0)
    heat = views.payload_bytes(gr.Plot().postprocess(fig).model_dump())
    full, _ = views.bertviz_page(result, "head", 0, budget=10**12)
    assert heat * 4 < len(full.encode())


def test_api_attention_and_walkthrough(lab):
    _, _, keys, fns, _ = lab
    out = fns["attention"](keys["t5"], "the cat sat", "the dog", 1, 2, "cross")
    w = np.asarray(out["weights"])
    assert out["view"] == "cross" and w.shape == (len(out["query_tokens"]), len(out["key_tokens"]))
    np.testing.assert_allclose(w.sum(1), 1, atol=1e-4)
    walk = fns["attention_walkthrough"](keys["llama"], "the cat sat on the mat", "", "self", 1,
                                        3, 2)
    assert walk["verified"] and walk["max_abs_diff"] < 1e-4 and walk["kv_head"] == 1
    assert [s["step"] for s in walk["steps"]][4] == "rope"
    soft = next(s for s in walk["steps"] if s["step"] == "softmax")["query_row"]
    assert soft[3:] == [0.0] * (len(soft) - 3)              # causal: keys after query 2 get 0
    with pytest.raises(gr.Error) as e:
        fns["attention"](keys["bert"], "the cat", "", 7, 0, "")
    assert "layer must be from 0 to 1" in str(e.value)
    with pytest.raises(gr.Error):
        fns["attention"](keys["bert"], "", "", 0, 0, "")


def test_walkthrough_view_shows_verification_and_latex(lab):
    from webapp.tabs.attention import explain
    _, manager, keys, _, _ = lab
    verify, md, fig = explain(manager, keys["t5"], "the cat sat", "the dog", "encoder", 1, 0, 1,
                              "zh")
    assert "已验证" in verify
    assert "$$" in md and "T5" in md and "\\sqrt" in md
    assert len(fig.data) >= 6


def test_notices_and_model_kind_reach_the_chinese_ui(lab):
    """A text cut to fit: the info line says so in the user's language, as does the kind."""
    from webapp.tabs.attention import show_attention
    _, manager, keys, _, _ = lab
    long_text = " ".join(["the cat sat on the mat"] * 60)
    out = show_attention(manager, keys["bert"], long_text, "", "self", 0, 0, False, "entropy", "zh")
    info = out[1]
    assert "编码器" in info and "只显示前" in info and "The text has" not in info
    out_en = show_attention(manager, keys["bert"], long_text, "", "self", 0, 0, False, "entropy",
                            "en")
    assert "encoder" in out_en[1] and "only the first" in out_en[1]
