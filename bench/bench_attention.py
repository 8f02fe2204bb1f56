"""Attention lab: what reaches the browser, and how fast the first heatmap is ready.

For MiniLM (6 x 12) and a random 12 x 12 BERT (MiniLM's shape with 12 layers, MiniLM's
tokenizer) at 32, 128 and 512 tokens, compare
  app_first   bytes of everything "Show attention" sends (one head's heatmap, the overview
              grid, selectors; the full tensor stays in server-side state)
  app_redraw  bytes of moving the layer/head slider (one heatmap)
  bv_capped   bytes of the app's capped bertviz iframe
  bv_page     bytes of bertviz's own page for the same input (every layer x head x n x n at
              full float precision, as `head_view(..., html_action="return")` builds it);
              at 512 tokens measured for one layer and multiplied by the layer count
  bv_data_once  the same with the data once (bertviz 1.4.1 repeats it in a comment);
              full_vs_first = bv_data_once / app_first
and time the "Show attention" handler (model already loaded), with the raw forward pass
(`model(..., output_attentions=True)`) timed alongside for the ratio.
"""
from __future__ import annotations

import re
import statistics
import tempfile
from pathlib import Path

from bench.common import Timer, manager, save, table

LENGTHS = (32, 128, 512)
WORDS = ("the cat sat on the mat and the dog ran in the park while students learn how "
         "language models work and read a good book about the weather today").split()


def _text(tokenizer, n: int) -> str:
    words, i = [], 0
    while True:
        words.append(WORDS[i % len(WORDS)])
        i += 1
        if len(tokenizer(" ".join(words))["input_ids"]) >= n:
            return " ".join(words)


def _random_12x12(mgr, folder: Path) -> str:
    import transformers
    src = mgr.registry.files_dir(mgr.registry.get("minilm"))
    cfg = transformers.AutoConfig.from_pretrained(src)
    cfg.num_hidden_layers = 12
    model = transformers.BertModel._from_config(cfg, attn_implementation="eager")
    model.save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(src).save_pretrained(folder)
    return mgr.register_local(str(folder), "random-12x12").key


def _lab(mgr):
    import gradio as gr

    from models.core.jobs import JobRunner
    from webapp.tabs import attention as tab_attention
    from webapp.common import AppContext
    from webapp.i18n import Localizer
    with gr.Blocks() as demo:
        lang = gr.Radio(["en", "zh"], value="en")
        with gr.Tabs() as tabs:
            ctx = AppContext(manager=mgr, jobs=JobRunner("bench"), loc=Localizer("en"),
                             lang=lang, tabs=tabs)
            with gr.Tab("Attention", id=tab_attention.TAB_ID):
                tab_attention.build(ctx)
    fns = {f.api_name: f for f in demo.fns.values() if f.api_name}
    return demo, ctx, fns


def _wire_bytes(components, values) -> int:
    """Bytes of the JSON Gradio sends for these outputs (State never leaves the server)."""
    import gradio as gr

    from webapp.views.attention import payload_bytes
    total = 0
    for comp, value in zip(components, values):
        if isinstance(comp, gr.State):
            continue
        if isinstance(value, dict):                 # gr.update(...)
            body = {k: v for k, v in value.items() if k != "__type__"}
            if "value" in body and body["value"] is not None:
                body["value"] = comp.postprocess(body["value"])
            total += payload_bytes(_plain(body))
        else:
            total += payload_bytes(_plain(comp.postprocess(value)))
    return total


def _plain(v):
    return v.model_dump() if hasattr(v, "model_dump") else v


def _bertviz_full_bytes(result) -> tuple[int, int, bool]:
    import torch
    from bertviz import head_view
    amap = result.maps["self"]
    n_layers = amap.layers
    estimated = len(amap.query_tokens) > 256
    layers = [0] if estimated else list(range(n_layers))
    att = [torch.from_numpy(amap.weights[i].astype("float32"))[None] if i in layers else None
           for i in range(n_layers)]
    page = head_view(att, list(amap.query_tokens), include_layers=layers, html_action="return").data
    # bertviz 1.4.1 also writes the data into a comment ("// HACK: PYTHON_PARAMS ..."), so
    # its page carries it twice; compare with one copy to be fair to bertviz
    once = re.sub(r"; // HACK: [^\n]*", ";", page, count=1)
    size, size_once = len(page.encode()), len(once.encode())
    if estimated:   # one layer measured: the rest of the page is a few KB, the data scales
        size, size_once = size * n_layers, size_once * n_layers
    return size, size_once, estimated


def main() -> None:
    import warnings

    import torch
    warnings.filterwarnings("ignore", message="The value passed into gr.Dropdown")

    from models.runners.attention import encode, run_model
    from webapp.views import attention as views
    mgr = manager()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        keys = {"MiniLM 6x12": "minilm", "random 12x12": _random_12x12(mgr, Path(tmp) / "r12")}
        demo, ctx, fns = _lab(mgr)
        from webapp.tabs.attention import show_attention
        outputs = ctx.attention.outputs      # the button's outputs, as the tab wires them

        def show(*args):                     # the button's handler, without the session store
            return show_attention(mgr, *args)
        for label, key in keys.items():
            with mgr.use(key) as lm:
                tok = lm.tokenizer
            for n in LENGTHS:
                text = _text(tok, n)
                args = (key, text, "", "self", 0, 0, False, "entropy", "en")
                show(*args)                                        # warm-up
                times, raw = [], []
                for _ in range(3):
                    with Timer() as tm:
                        values = show(*args)
                        first = _wire_bytes(outputs, values)
                    times.append(tm.seconds)
                    with mgr.use(key) as lm, torch.inference_mode():
                        enc = encode(lm, text, "")
                        with Timer() as tr:
                            run_model(lm, enc)
                        raw.append(tr.seconds)
                result = values[0]
                ntok = len(result.tokens)
                amap = result.maps["self"]
                redraw = _wire_bytes([outputs[6]], [views.heatmap(amap, 2, 3)])
                with Timer() as tb:
                    doc, _msg = views.bertviz_page(result, "head", 0)
                capped = views.payload_bytes(views.iframe(doc))
                page, full, est = _bertviz_full_bytes(result)
                rows.append({"model": label, "tokens": ntok, "app_first_KB": first / 1e3,
                             "app_redraw_KB": redraw / 1e3, "bv_capped_KB": capped / 1e3,
                             "bv_page_MB": page / 1e6, "bv_data_once_MB": full / 1e6,
                             "bv_estimated": est,
                             "full_vs_first": full / first,
                             "first_heatmap_s": statistics.median(times),
                             "raw_forward_s": statistics.median(raw),
                             "bertviz_build_s": tb.seconds})
                print(rows[-1], flush=True)
        demo.close() if hasattr(demo, "close") else None
    table(rows)
    print("\ngoal: full bertviz / app first load >= 20x at 128 tokens:",
          [f"{r['model']}: {r['full_vs_first']:.0f}x" for r in rows if r["tokens"] == 128])
    save("attention", rows, goal="full_vs_first >= 20 at 128 tokens; 512 tokens usable")


if __name__ == "__main__":
    main()
