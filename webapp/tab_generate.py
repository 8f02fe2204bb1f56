"""Generate tab: a prompt, a causal LM, tokens streaming in as they are produced, with the
sampling controls that decide how each next token is picked."""
from __future__ import annotations

import html

import gradio as gr

from models.tasks import GenerationSettings, check_text, prepare_prompt, stream_generate

from .common import HEAVY, AppContext, friendly, model_picker
from .i18n import t

TITLE_KEY = "tab.generate"
TAB_ID = "generate"
STREAM_INTERVAL = 0.1   # seconds between updates sent to the browser
EXAMPLES = [["Write a short poem about the sea."],
            ["Explain in two sentences what a neural network is."],
            ["Once upon a time, in a village by the mountains,"],
            ["法国的首都是哪里？"],
            ["用一句话介绍一下长城。"]]


def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="gen.intro")
    with gr.Row():
        with gr.Column(scale=3):
            model = model_picker(ctx, "generate", label_key="gen.model", elem_id="gen-model",
                                 value="smollm2")
            prompt = loc.Textbox(label_key="gen.prompt", lines=4, elem_id="gen-prompt",
                                 value_key="gen.prompt_value")
            gr.Examples(EXAMPLES, [prompt], label="Examples · 示例")
            chat = loc.Checkbox(label_key="gen.chat", value=True, elem_id="gen-chat")
            with gr.Row():
                run = loc.Button(value_key="gen.run", variant="primary", elem_id="gen-run")
                stop = loc.Button(value_key="gen.stop", variant="stop", elem_id="gen-stop")
        with loc.Accordion(label_key="gen.settings", open=False, elem_id="gen-settings"):
            max_new = loc.Slider(label_key="gen.max_new", minimum=1, maximum=1024, step=1,
                                 value=GenerationSettings.max_new_tokens)
            temperature = loc.Slider(label_key="gen.temperature", minimum=0.05, maximum=2.0,
                                     step=0.05, value=GenerationSettings.temperature)
            top_k = loc.Slider(label_key="gen.top_k", minimum=0, maximum=200, step=1,
                               value=GenerationSettings.top_k)
            top_p = loc.Slider(label_key="gen.top_p", minimum=0.05, maximum=1.0, step=0.01,
                               value=GenerationSettings.top_p)
            greedy = loc.Checkbox(label_key="gen.greedy", value=False)
            seed = loc.Number(label_key="gen.seed", value=-1, precision=0)
    output = loc.Textbox(label_key="gen.output", lines=8, interactive=False, elem_id="gen-output")
    stats = gr.Markdown(elem_id="gen-stats")
    with loc.Accordion(label_key="gen.sent", open=False):
        sent = gr.Code(language=None, elem_id="gen-sent", interactive=False)

    @friendly
    def generate(key, text, chat_mode, max_new_tokens, temp, k, p, is_greedy, seed_value, lang,
                 progress=gr.Progress()):
        text = check_text(text)
        settings = GenerationSettings(int(max_new_tokens), float(temp), int(k), float(p),
                                      bool(is_greedy), seed=None if seed_value in (None, "") or
                                      int(seed_value) < 0 else int(seed_value)).check()
        if not manager.is_loaded(key):
            progress(0, desc=f"loading {manager.registry.get(key).name}")
        with manager.use(key, progress=lambda f, m: progress(f, desc=m)) as lm, manager.guard():
            prompt = prepare_prompt(lm, text, bool(chat_mode), settings.max_new_tokens)
            notice = f"⚠️ {html.escape(prompt.notice)}\n\n" if prompt.notice else ""
            shown = 0.0
            for upd in stream_generate(lm, prompt, settings):
                # Send at most ~10 updates a second: smooth to watch, and the browser
                # round-trips do not slow the model down.
                if upd.done or upd.seconds - shown >= STREAM_INTERVAL:
                    shown = upd.seconds
                    line = t("gen.stats", lang, n=upd.n_tokens, secs=upd.seconds,
                             tps=upd.tokens_per_s, model=lm.spec.name)
                    yield upd.text, notice + line, prompt.text

    event = run.click(generate, [model, prompt, chat, max_new, temperature, top_k, top_p, greedy,
                                 seed, lang], [output, stats, sent], api_name="generate",
                      show_progress_on=[output], **HEAVY)
    prompt.submit(generate, [model, prompt, chat, max_new, temperature, top_k, top_p, greedy,
                             seed, lang], [output, stats, sent], api_visibility="private",
                  show_progress_on=[output], **HEAVY)
    stop.click(None, None, None, cancels=[event], api_visibility="private")
