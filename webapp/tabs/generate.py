"""Generate tab: a prompt, a causal LM, tokens streaming in as they are produced, with the
sampling controls that decide how each next token is picked — and afterwards, for every step,
the candidates and the token that was drawn (models/runners/next_token.py).

A long prompt is announced before it runs: its tokens are counted and, past the model's
window or past what this device reads in ~30 s (models/runners/gen_speed.py), the tab says so with an
estimated time and offers to cut it to fit or to go ahead. While a long prompt is read, the
stats line shows how far; Stop ends the reading within one chunk and the line says "Stopped" at
once. A second click while a run is going says that it is queued.
The handlers live in `GenerateActions`; build() lays out and wires (errors next to the button,
wire_action). Prompts and defaults were chosen by measurement (bench/bench_generate_defaults.py).
"""
from __future__ import annotations

import html
import threading
import time

import gradio as gr

from models.runners.gen_speed import SpeedMeter, model_shape, prefill_flops
from models.runners.generation import (GenerationSettings, check_length, check_text, cut_to_fit, prepare_prompt,
                          stream_generate)
from models.runners.token_text import token_pieces

from webapp.views import generate as views
from webapp.views import engine as engine_views
from webapp.common import (HEAVY, NO_MESSAGE, AppContext, GenerateLink, action_message,
                            generation_settings, model_picker, wire_action)
from webapp.i18n import progress_words, t

TITLE_KEY = "tab.generate"
TAB_ID = "generate"
STREAM_INTERVAL = 0.1   # seconds between updates sent to the browser
# Each one answered right by the packaged SmolLM2 under the default settings, in a measured
# share of runs (bench/bench_generate_defaults.py; figures in the README).
EXAMPLES = [["What is the capital of France?"],
            ["What color is the sky on a clear day?"],
            ["Explain in two sentences what a neural network is."],
            ["Write a short poem about the sea."],
            ["法国的首都是哪里？(What is the capital of France?)"],
            ["用一句话介绍一下长城。(Describe the Great Wall of China in one sentence.)"]]
# The tab's defaults, chosen on assets/eval/generate.jsonl (bench/bench_generate_defaults.py):
# at temperature 0.3 the packaged model answers the pre-filled prompts right in nearly every
# draw. The seed is fixed so that a class pressing Generate together sees the same, measured
# answer; -1 draws anew each time.
DEFAULTS = GenerationSettings(temperature=0.3, seed=0)


def fmt_duration(seconds: float, lang: str) -> str:
    if seconds < 90:
        return t("gen.seconds", lang, n=max(1.0, seconds))
    if seconds < 90 * 60:
        return t("gen.minutes", lang, n=seconds / 60)
    return t("gen.hours", lang, n=seconds / 3600)


def settings_from(max_new_tokens, temp, k, p, is_greedy, seed_value) -> GenerationSettings:
    return generation_settings(DEFAULTS, max_new_tokens=max_new_tokens, temperature=temp,
                               top_k=k, top_p=p, greedy=is_greedy, seed=seed_value)


class GenerateActions:
    """The tab's handlers, around one ModelManager (shared by the app) and one SpeedMeter."""

    def __init__(self, manager):
        self.manager = manager
        self.meter = SpeedMeter()
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}     # session -> runs in progress
        self._queued: dict[str, int] = {}      # session -> runs waiting behind them
        self._dropped: dict[str, int] = {}     # session -> queued runs Stop has called off
        self._stops: dict[str, dict[threading.Event, bool]] = {}   # session -> its runs' Stop
        #                                        events -> has the run written a token yet

    # ---- the main action -------------------------------------------------------------------
    def generate(self, key, text, chat_mode, max_new_tokens, temp, k, p, is_greedy, seed_value,
                 lang, request: gr.Request = None, progress=gr.Progress()):
        """/generate: runs whatever the prompt's length (a prompt past the window keeps its end,
        and the stats line says so)."""
        yield from self._run(key, text, chat_mode, max_new_tokens, temp, k, p, is_greedy,
                             seed_value, lang, request, progress, ask_first=False)

    def generate_checked(self, key, text, chat_mode, max_new_tokens, temp, k, p, is_greedy,
                         seed_value, lang, request: gr.Request = None, progress=gr.Progress()):
        """The Generate button: a long prompt is announced first (see `long_notice`)."""
        yield from self._run(key, text, chat_mode, max_new_tokens, temp, k, p, is_greedy,
                             seed_value, lang, request, progress, ask_first=True)

    def _run(self, key, text, chat_mode, max_new_tokens, temp, k, p, is_greedy, seed_value, lang,
             request, progress, ask_first):
        text = check_text(text)
        settings = settings_from(max_new_tokens, temp, k, p, is_greedy, seed_value)
        session = getattr(request, "session_hash", None) or ""
        stop = threading.Event()          # set by this session's Stop (on_stop)
        self._started(session, stop)
        try:
            manager = self.manager
            if not manager.is_loaded(key):
                progress(0, desc=t("models.loading", lang, name=manager.registry.get(key).name))
            with manager.use(key, progress=progress_words(progress, lang),
                             label="generate") as lm, manager.guard():
                if stop.is_set():         # stopped while it waited for the device
                    yield gr.update(), t("gen.stopped", lang), gr.update(), gr.update(), None
                    return
                chat = bool(chat_mode)
                length = check_length(lm, text, chat, settings.max_new_tokens, self.meter)
                if ask_first and length.needs_ok:
                    new = settings.max_new_tokens
                    yield "", "", "", [], {
                        "n": length.prompt_tokens, "room": length.room, "window": lm.max_length,
                        "new": new, "model": lm.spec.name, "seconds": length.seconds,
                        "read": self.meter.prompt_seconds(lm, min(length.prompt_tokens, length.room), new),
                        "fit": length.fit_tokens,
                        "fit_read": self.meter.prompt_seconds(lm, length.fit_tokens, new),
                        "fit_time": self.meter.estimate(lm, length.fit_tokens, new),
                        "over_window": length.over_window, "too_slow": length.too_slow}
                    return
                prompt = prepare_prompt(lm, text, chat, settings.max_new_tokens)
                notice = ""
                if prompt.notice:
                    notice = "⚠️ " + html.escape(t(
                        "gen.truncated", lang, n=length.prompt_tokens, room=length.room,
                        window=lm.max_length, new=settings.max_new_tokens, model=lm.spec.name)) + "\n\n"
                shape, shown, started = model_shape(lm), -1.0, time.perf_counter()
                for upd in stream_generate(lm, prompt, settings, report_prefill=True,
                                           meter=self.meter, interval=STREAM_INTERVAL, stop=stop):
                    if upd.stopped and not upd.n_tokens:     # stopped while reading the prompt
                        yield "", t("gen.stopped", lang), prompt.text, [], None
                        continue
                    if upd.prefill:
                        done, total = upd.prefill
                        spent = time.perf_counter() - started
                        done_f = prefill_flops(shape, done)
                        left = spent * (prefill_flops(shape, total) - done_f) / max(done_f, 1.0)
                        yield "", notice + t("gen.prefill", lang, done=done, total=total,
                                             pct=done / total, left=fmt_duration(left, lang)), \
                            prompt.text, [], None
                        continue
                    self._wrote(session, stop)
                    # at most ~10 updates a second: smooth to watch, and the browser
                    # round-trips do not slow the model down
                    if upd.done or upd.seconds - shown >= STREAM_INTERVAL:
                        shown = upd.seconds
                        line = t("gen.stats", lang, n=upd.n_tokens, secs=upd.seconds,
                                 tps=upd.tokens_per_s, model=lm.spec.name)
                        yield upd.text, notice + line, prompt.text, upd.steps, None
        finally:
            self._ended(session, stop)

    # ---- runs per session: "queued" instead of silence ------------------------------------
    def _started(self, session: str, stop: threading.Event | None = None) -> None:
        with self._lock:
            self._running[session] = self._running.get(session, 0) + 1
            if self._queued.get(session, 0) > 0:
                self._queued[session] -= 1
            if stop is not None:
                self._stops.setdefault(session, {})[stop] = False

    def _wrote(self, session: str, stop: threading.Event) -> None:
        """The run of `stop` has written its first token: its stats line counts tokens now."""
        with self._lock:
            runs = self._stops.get(session)
            if runs is not None and stop in runs:
                runs[stop] = True

    def _ended(self, session: str, stop: threading.Event | None = None) -> None:
        with self._lock:
            self._running[session] = max(0, self._running.get(session, 0) - 1)
            runs = self._stops.get(session, {})
            runs.pop(stop, None)
            if not runs:
                self._stops.pop(session, None)

    def on_click(self, lang, request: gr.Request = None):
        """Runs at once on every click/Shift+Enter (not queued): says so when this session's
        previous run is still going (the new one waits in the queue behind it), and empties
        the probabilities view, which belongs to the previous answer."""
        session = getattr(request, "session_hash", None) or ""
        with self._lock:
            busy = self._running.get(session, 0) > 0
            if busy:
                self._queued[session] = self._queued.get(session, 0) + 1
            else:        # nothing of this session is running: no called-off run is left to come
                self._dropped[session] = 0
        return (queued_note(lang) if busy else NO_MESSAGE, *show_steps([], lang))

    def after_run(self, note, lang, request: gr.Request = None):
        session = getattr(request, "session_hash", None) or ""
        with self._lock:
            waiting = self._queued.get(session, 0) > 0
        if waiting:
            return queued_note(lang)
        return NO_MESSAGE if note and "gen-queued-note" in note else gr.update()

    def on_stop(self, lang: str = "en", request: gr.Request = None):
        """Stop ends the run in progress and calls off the ones this session queued behind it
        (they end at once when their turn comes, without emptying the answer on screen).
        The run's model ends within one chunk of the prompt or one new token (its stop event;
        Gradio's cancel alone waits until the chunk under way reports). Returns the note and
        the stats line: "Stopped" at once while the run had not written a token yet (reading
        the prompt or waiting for the device: its estimate must not stay on screen); a run
        that wrote tokens keeps its count."""
        session = getattr(request, "session_hash", None) or ""
        with self._lock:
            self._dropped[session] = self._dropped.get(session, 0) + self._queued.get(session, 0)
            self._queued[session] = 0
            runs = dict(self._stops.get(session, {}))
        for stop in runs:
            stop.set()
        reading = any(not wrote for wrote in runs.values())
        return NO_MESSAGE, (t("gen.stopped", lang) if reading else gr.update())

    def called_off(self, *args, **kwargs) -> bool:
        """wire_action's `skip` (called with the handler's arguments, the gr.Request among
        them): is this run one that Stop called off while it waited?"""
        request = next((a for a in args if isinstance(a, gr.Request)), kwargs.get("request"))
        session = getattr(request, "session_hash", None) or ""
        with self._lock:
            if self._dropped.get(session, 0) > 0:
                self._dropped[session] -= 1
                return True
        return False

    # ---- a long prompt ---------------------------------------------------------------------
    def cut(self, key, text, chat_mode, info, lang):
        """Cut to fit: the prompt keeps its last tokens, as many as the window allows and as run,
        reading and writing, within ~30 s (models/runners/generation.py check_length)."""
        if not info:
            return gr.update(), gr.update(visible=False), NO_MESSAGE
        with self.manager.use(key, device=False) as lm:
            new = cut_to_fit(lm, text, bool(chat_mode), info["fit"])
        note = f'<div class="action-info" role="status">ℹ️ {html.escape(t("gen.cut_done", lang, kept=info["fit"], n=info["n"]))}</div>'
        return new, gr.update(visible=False), note


def queued_note(lang: str) -> str:
    return (f'<div class="action-info" id="gen-queued-note" role="status">⏳ '
            f'{html.escape(t("gen.queued", lang))}</div>')


def long_notice(info, lang):
    """The announcement of a long prompt (shown instead of running it), or hidden."""
    if not info:
        return gr.update(visible=False), ""
    parts = [t("gen.long_window" if info["over_window"] else "gen.long_tokens", lang, **info)]
    if info.get("seconds"):
        parts.append(t("gen.long_time", lang, read=fmt_duration(info["read"], lang),
                       time=fmt_duration(info["seconds"], lang)))
    parts.append(t("gen.long_offer", lang, fit=info["fit"],
                   fit_read=fmt_duration(info["fit_read"], lang),
                   fit_time=fmt_duration(info["fit_time"], lang)))
    return gr.update(visible=True), "⚠️ " + " ".join(parts)


def show_steps(steps, lang, manager=None, key=None):
    """After a run: the answer token by token, the step slider, the first step's bars."""
    if not steps:
        return [], gr.update(maximum=2, value=1, interactive=False), views.empty_figure(lang)
    return (_spans(steps, manager, key),    # (a slider needs maximum > minimum)
            gr.update(minimum=1, maximum=max(len(steps), 2), value=1, step=1, interactive=True),
            views.step_figure(steps[0], 0, lang))


def _spans(steps, manager, key):
    pieces = [s.text for s in steps]
    if manager is not None and key:
        try:
            with manager.use(key, device=False) as lm:
                pieces = token_pieces(lm.tokenizer, [s.token_id for s in steps])
        except Exception:   # the model went away: the single-token texts will do
            pass
    return views.token_spans(pieces, steps)


def draw_step(steps, index, lang):
    if not steps:
        return views.empty_figure(lang)
    i = min(max(int(index or 1), 1), len(steps)) - 1
    return views.step_figure(steps[i], i, lang)


def pick_token(steps, evt: gr.SelectData):
    """A click on a token of the answer selects its step."""
    if not steps or evt is None or evt.index is None:
        return gr.update()
    index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    return gr.update(value=int(index) + 1)


def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    actions = GenerateActions(manager)
    loc.Markdown(value_key="gen.intro")
    with gr.Row():
        with gr.Column(scale=3):
            model = model_picker(ctx, "generate", label_key="gen.model", elem_id="gen-model",
                                 value="smollm2")
            prompt = loc.Textbox(label_key="gen.prompt", info_key="gen.prompt_info", lines=4,
                                 elem_id="gen-prompt", value_key="gen.prompt_value")
            # (the label of gr.Examples cannot follow the language switch: it says both)
            gr.Examples(EXAMPLES, [prompt], label="Examples · 示例", elem_id="gen-examples")
            loc.Markdown(value_key="gen.model_note", elem_id="gen-model-note")
            chat = loc.Checkbox(label_key="gen.chat", value=True, elem_id="gen-chat")
            with gr.Row():
                run = loc.Button(value_key="gen.run", variant="primary", elem_id="gen-run")
                stop = loc.Button(value_key="gen.stop", variant="stop", elem_id="gen-stop")
            msg = action_message("gen-msg")
            note = gr.HTML(NO_MESSAGE, elem_id="gen-note", padding=False)
            with gr.Group(visible=False, elem_id="gen-long") as long_box:
                long_md = gr.Markdown(elem_id="gen-long-text")
                with gr.Row():
                    cut = loc.Button(value_key="gen.cut", variant="primary", elem_id="gen-cut")
                    anyway = loc.Button(value_key="gen.anyway", elem_id="gen-anyway")
        with loc.Accordion(label_key="gen.settings", open=False, elem_id="gen-settings"):
            max_new = loc.Slider(label_key="gen.max_new", minimum=1, maximum=1024, step=1,
                                 value=DEFAULTS.max_new_tokens, elem_id="gen-max-new")
            temperature = loc.Slider(label_key="gen.temperature", minimum=0.05, maximum=2.0,
                                     step=0.05, value=DEFAULTS.temperature, elem_id="gen-temperature")
            top_k = loc.Slider(label_key="gen.top_k", minimum=0, maximum=200, step=1,
                               value=DEFAULTS.top_k, elem_id="gen-top-k")
            top_p = loc.Slider(label_key="gen.top_p", minimum=0.05, maximum=1.0, step=0.01,
                               value=DEFAULTS.top_p, elem_id="gen-top-p")
            greedy = loc.Checkbox(label_key="gen.greedy", value=DEFAULTS.greedy, elem_id="gen-greedy")
            seed = loc.Number(label_key="gen.seed", value=DEFAULTS.seed, precision=0,
                              elem_id="gen-seed")
    output = loc.Textbox(label_key="gen.output", lines=8, interactive=False, elem_id="gen-output")
    stats = gr.Markdown(elem_id="gen-stats")
    answered = gr.HTML("", elem_id="gen-answered", padding=False)   # which engine answered
    with loc.Accordion(label_key="gen.probs", open=True, elem_id="gen-probs"):
        loc.Markdown(value_key="gen.probs_help")
        tokens = loc.HighlightedText(label_key="gen.tokens", combine_adjacent=False,
                                     show_legend=False, elem_id="gen-tokens")
        step = loc.Slider(label_key="gen.step", minimum=1, maximum=2, step=1, value=1,
                          interactive=False, elem_id="gen-step")
        chart = gr.Plot(views.empty_figure(loc.lang), elem_id="gen-step-plot", show_label=False)
        # wired by the "Why this token?" tab (webapp/tabs/why.py): branch from any step there
        why = loc.Button(value_key="why.from_generate", size="sm", elem_id="gen-why")
    with loc.Accordion(label_key="gen.sent", open=False):
        sent = gr.Code(language=None, elem_id="gen-sent", interactive=False)
    steps_state, long_state = gr.State([]), gr.State(None)

    inputs = [model, prompt, chat, max_new, temperature, top_k, top_p, greedy, seed, lang]
    outputs = [output, stats, sent, steps_state, long_state]
    common = dict(message=msg, clear=[output, stats, sent], show_progress_on=[output], **HEAVY)

    quiet = dict(queue=False, api_visibility="private")

    def steps_view(steps, lg, key):
        return show_steps(steps, lg, manager, key)

    def after(events):
        """What follows every run: the long-prompt box, the queue note, the probabilities."""
        for ev in events:
            ev.then(long_notice, [long_state, lang], [long_box, long_md], **quiet) \
              .then(actions.after_run, [note, lang], [note], **quiet) \
              .then(steps_view, [steps_state, lang, model], [tokens, step, chart], **quiet)

    # the API endpoint first, so that it keeps the name "generate"
    api = wire_action([], actions.generate, inputs, outputs, api_name="generate", **common)
    for trigger in (run.click, prompt.submit):
        trigger(actions.on_click, [lang], [note, tokens, step, chart], **quiet)
    # trigger_mode "multiple": a second click is queued behind the first (and said so), not dropped
    ui_runs = wire_action([run.click, prompt.submit], actions.generate_checked, inputs, outputs,
                          trigger_mode="multiple", skip=actions.called_off, **common)
    anyway.click(lambda lg: (gr.update(visible=False), *show_steps([], lg)), [lang],
                 [long_box, tokens, step, chart], **quiet)
    anyway_runs = wire_action(anyway.click, actions.generate, inputs, outputs, **common)
    cut_event = cut.click(actions.cut, [model, prompt, chat, long_state, lang],
                          [prompt, long_box, note], api_visibility="private")   # queued: light
    cut_runs = wire_action(cut_event.success, actions.generate_checked, inputs, outputs, **common)
    runs = ui_runs + anyway_runs + cut_runs
    # which engine answered (app.py --engine-url): the serving engine or this app
    for ev in runs:
        ev.then(lambda key, lg: engine_views.answered_by(manager, key, lg), [model, lang],
                [answered], **quiet)
    model.change(lambda: "", None, [answered], **quiet)
    after(runs)
    stop.click(actions.on_stop, [lang], [note, stats], cancels=runs + api, **quiet) \
        .then(steps_view, [steps_state, lang, model], [tokens, step, chart], **quiet)
    step.change(draw_step, [steps_state, step, lang], [chart], **quiet)
    tokens.select(pick_token, [steps_state], [step], **quiet)
    lang.change(draw_step, [steps_state, step, lang], [chart], **quiet)
    ctx.generate = GenerateLink(model, prompt, sent, steps_state, why)   # for the Why tab's tree
