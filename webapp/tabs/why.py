""""Why this token?": the logit lens, input attributions (integrated gradients, gradient x
input, "why X and not Y"), attention rollout, branching generation and two models side by
side, on one text and one model picked at the top.

The handlers are module-level functions with plain inputs and outputs (the manager is their
first argument; build() binds it). Results a redraw needs (the lens, the rollout, the tree of
branches, the last attribution) stay on the server in per-session gr.State. Each action's
error shows next to its button (wire_action). The API endpoints /logit_lens, /attribute,
/attention_rollout and /branch return JSON (the `*_json` functions below).
"""
from __future__ import annotations

import gradio as gr

from models.core.errors import UserError
from models.runners import attribution as attr_mod
from models.runners.branching import EXTEND, MAX_FOLLOW, branch, follow, parse_choices
from models.runners.logit_lens import LogitLens, logit_lens
from models.runners.rollout import Rollout, attention_rollout
from models.runners.side_by_side import compare
from models.runners.token_text import single_token_text

from webapp.common import HEAVY, AppContext, action_message, friendly, model_picker, wire_action
from webapp.i18n import progress_words, render, t
from webapp.views import why as views

TITLE_KEY = "why.title"
TAB_ID = "why"
BRANCH_TAB = "why-branch-tab"
# Seconds per integrated-gradients step for SmolLM2 and a ~30-token text on a 2-core CPU
# (bench/bench_why.py measured 0.098-0.101, load 1-2); shown before the user's first run, then
# their own measurement is used.
SECONDS_PER_STEP = 0.1
DECIMALS = 5


def _need(result):
    if result is None:
        raise UserError("why_no_result")
    return result


def _key(key) -> str:
    return (key or "").strip()


def model_note(manager, key, lang: str) -> str:
    """A line under the model picker when the model predicts nothing by itself."""
    try:
        spec = manager.registry.get(_key(key))
    except UserError:
        return ""
    if spec.kind == "encoder" and spec.head != "classification":
        return t("why.kind_note.encoder", lang, model=views.md_token(spec.name))
    return ""


# ---- logit lens -----------------------------------------------------------------------------
def show_lens(manager, key, text, lang, progress=None):
    """Lens state, verification line, summary, grid, emergence curve, column picker."""
    with manager.use(_key(key), progress=progress_words(progress, lang), label="logit lens") as lm, \
            manager.guard():
        lens = logit_lens(lm, text)
    col = lens.columns - 1
    return (lens, views.lens_verify(lens, lang), views.lens_summary(lens, lang, col),
            views.lens_grid(lens, lang), views.lens_curve(lens, col, lang),
            gr.update(choices=views.column_choices(lens), value=col))


def lens_column(lens: LogitLens, column, lang):
    """Summary and emergence curve for another position."""
    lens = _need(lens)
    col = int(column) if column is not None else lens.columns - 1
    col = min(max(0, col), lens.columns - 1)
    return views.lens_summary(lens, lang, col), views.lens_curve(lens, col, lang)


# ---- attribution ----------------------------------------------------------------------------
def explain_tokens(manager, key, text, target, contrast, method, steps, lang, progress=None):
    """Attribution state, coloured tokens, summary, the model's top guesses, time estimate."""
    method = attr_mod.check_method(method)
    steps = attr_mod.check_steps(steps) if method == "ig" else attr_mod.DEFAULT_STEPS
    with manager.use(_key(key), progress=progress_words(progress, lang), label="attribution") as lm, \
            manager.guard():
        a = attr_mod.attribute(lm, text, target or "", contrast or "", method, steps)
    return (a, views.tokens_html(a.tokens, a.scores, a.fixed, lang),
            views.attribution_summary(a, lang), views.candidates_frame(a, lang),
            estimate(steps, a, lang))


def estimate(steps, last: attr_mod.Attribution | None, lang):
    """The time integrated gradients will take: from the user's last run when there is one."""
    per = last.seconds_per_step if last is not None and last.method == "ig" else None
    return views.steps_estimate(steps, per, last.model_name if last else None, lang,
                                SECONDS_PER_STEP)


def pick_contrast(last: attr_mod.Attribution, lang, evt: gr.SelectData):
    """A click on one of the model's guesses makes it the alternative ("…and not this")."""
    last = _need(last)
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    row = int(row)
    if not 0 <= row < len(last.candidates):
        return gr.update()
    return last.candidates[row].token


# ---- rollout --------------------------------------------------------------------------------
def show_rollout(manager, key, text, lang, progress=None):
    """Rollout state, notes, layer slider, figure (last layer)."""
    with manager.use(_key(key), progress=progress_words(progress, lang), label="rollout") as lm, \
            manager.guard():
        r = attention_rollout(lm, text)
    notes = [t("why.roll_assume", lang)]
    if r.view == "encoder":
        notes.append(t("why.roll_encoder_note", lang))
    if r.notice:
        notes.append(views.notice_md(r.notice, lang))
    last = r.layers - 1
    return (r, "\n\n".join(notes), gr.update(maximum=last, value=last),
            views.rollout_figure(r, last, lang))


def rollout_layer(r: Rollout, layer, lang):
    return views.rollout_figure(_need(r), layer, lang)


# ---- branching ------------------------------------------------------------------------------
def _as_dict(b, bid: int, parent: int | None, at: int | None, **extra) -> dict:
    """A path of the tree; `extra`: "generated" (the first path is the Generate tab's answer),
    "cut" (that answer's length when only its first MAX_FOLLOW tokens are read), "note" (a
    string key shown under the path's header)."""
    return {"id": bid, "parent": parent, "at": at, "ranks": [s.rank for s in b.steps],
            "ids": [s.chosen.token_id for s in b.steps],
            "text": b.text, "probability": b.probability, "ended": b.ended, "steps": b.steps,
            "prompt": b.prompt, **extra}


def _tree_view(tree: dict, lang: str):
    cur = next(b for b in tree["branches"] if b["id"] == tree["current"])
    return (tree, views.steps_frame(cur["steps"], lang), views.tree_frame(tree["branches"], lang),
            views.branch_text(cur, lang))


def start_tree(manager, key, text, lang, progress=None):
    """A new tree whose first path is the model's own continuation of the text."""
    key = _key(key)
    with manager.use(key, progress=progress_words(progress, lang), label="branching") as lm, manager.guard():
        b = branch(lm, text, [], EXTEND)
    tree = {"model": key, "prompt": b.prompt, "current": 1,
            "branches": [_as_dict(b, 1, None, None)]}
    return _tree_view(tree, lang)


def generated_ids(tok, steps) -> list[int] | None:
    """The token ids of the Generate tab's answer (its per-step records), or None when they
    cannot be this tokenizer's (the answer came from a model with another vocabulary)."""
    try:
        ids = [int(s.token_id) for s in steps]
        if all(single_token_text(tok, i) == s.text for i, s in zip(ids, steps)):
            return ids
    except Exception:           # ids outside this vocabulary, or records of another shape
        pass
    return None


def sent_prompt(tok, sent: str) -> str:
    """The prompt as Generate sent it. Its "sent" box (a gr.Code) gives the text back stripped,
    and a chat prompt ends in whitespace after the assistant's turn ("<|im_start|>assistant\n"
    for SmolLM2), which the answer follows; the model's own chat template says what it was,
    so it is put back. Any other text comes back unchanged."""
    if not getattr(tok, "chat_template", None):
        return sent
    try:
        probe = tok.apply_chat_template([{"role": "user", "content": "\u2063"}],
                                        add_generation_prompt=True, tokenize=False)
    except Exception:           # a template that needs more than one user message
        return sent
    after = probe[probe.rfind("\u2063") + 1:]          # e.g. "<|im_end|>\n<|im_start|>assistant\n"
    ending = after.rstrip()
    if ending and after != ending and sent == sent.rstrip() and sent.endswith(ending):
        return sent + after[len(ending):]
    return sent


def seed_tree(manager, key, text, steps, lang, progress=None):
    """A new tree whose first path is the Generate tab's answer (the tokens it drew, each with
    the model's probability and top-k at its step); the model's own continuation when
    Generate has not written anything yet, or wrote it with a model of another vocabulary.
    The text is read as Generate sent it, final newline included."""
    key = _key(key)
    with manager.use(key, progress=progress_words(progress, lang), label="branching") as lm, manager.guard():
        text = sent_prompt(lm.tokenizer, text or "")
        ids = generated_ids(lm.tokenizer, steps) if steps else None
        if ids:
            b = follow(lm, text, ids, extend=0)
            extra = {"generated": True, "cut": len(ids) if len(ids) > MAX_FOLLOW else None}
        else:
            b = follow(lm, text, [], EXTEND)
            extra = {"note": "why.seed_other_model"} if steps else {}
    tree = {"model": key, "prompt": b.prompt, "current": 1,
            "branches": [_as_dict(b, 1, None, None, **extra)]}
    return _tree_view(tree, lang)


def branch_from(manager, tree: dict, lang, evt: gr.SelectData, progress=None):
    """A click on a step's alternative: continue from that token (a new path in the tree
    that keeps the tokens before it and goes on with the model's own choices)."""
    tree = _need(tree)
    row, col = evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, 0)
    row, rank = int(row), int(col)
    cur = next(b for b in tree["branches"] if b["id"] == tree["current"])
    if rank < 1 or row >= len(cur["steps"]) or rank > len(cur["steps"][row].top) \
            or cur["steps"][row].top[rank - 1].token_id == cur["ids"][row]:
        return _tree_view(tree, lang)                      # the step column or the path taken
    path = cur["ids"][:row] + [cur["steps"][row].top[rank - 1].token_id]
    with manager.use(tree["model"], progress=progress_words(progress, lang), label="branching") as lm, \
            manager.guard():
        b = follow(lm, tree["prompt"], path, EXTEND)
    ids = [s.chosen.token_id for s in b.steps]
    same = next((x for x in tree["branches"] if x["ids"] == ids), None)
    tree = dict(tree, branches=list(tree["branches"]))
    if same is None:
        new_id = max(x["id"] for x in tree["branches"]) + 1
        tree["branches"].append(_as_dict(b, new_id, cur["id"], row))
        tree["current"] = new_id
    else:
        tree["current"] = same["id"]
    return _tree_view(tree, lang)


def open_branch(tree: dict, lang, evt: gr.SelectData):
    """A click on a row of the tree: go back to that path."""
    tree = _need(tree)
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if not 0 <= int(row) < len(tree["branches"]):
        return _tree_view(tree, lang)
    return _tree_view(dict(tree, current=tree["branches"][int(row)]["id"]), lang)


# ---- side by side ---------------------------------------------------------------------------
def compare_models(manager, key_a, key_b, text, layer, head, lang):
    """Each model's column (HTML) and their chosen heads side by side."""
    res = compare(manager, _key(key_a), _key(key_b), text, int(layer or 0), int(head or 0))
    return (views.side_html(res.a, lang), views.side_html(res.b, lang),
            views.compare_attention(res.a, res.b, lang))


# ---- API (JSON) -----------------------------------------------------------------------------
def _r(x: float) -> float:
    return round(float(x), DECIMALS)


def _guess(g) -> dict:
    return {"token": g.token, "token_id": g.token_id, "prob": _r(g.prob)}


def logit_lens_json(manager, model: str, text: str, lang: str = "en") -> dict:
    with manager.use(_key(model), label="logit lens") as lm, manager.guard():
        lens = logit_lens(lm, text)
    names = ["embeddings"] + [f"layer {i}" for i in range(1, lens.rows)]
    return {"model": lens.model_name, "family": lens.family, "kind": lens.kind,
            "where": lens.where, "tokens": lens.tokens,
            "layers": [{"layer": names[r], "top": [[_guess(g) for g in cell] for cell in row]}
                       for r, row in enumerate(lens.top)],
            "final": [_guess(g) for g in lens.final],
            "final_rank": lens.final_rank.astype(int).tolist(),
            "final_prob": [[_r(p) for p in row] for row in lens.final_prob],
            "final_max_abs_diff": lens.max_abs_diff, "verified": lens.verified,
            "dtype": lens.dtype,
            "notice": render(lens.notice, lang) if lens.notice else None}


def attribute_json(manager, model: str, text: str, target: str = "", contrast: str = "",
                   method: str = "ig", steps: int = attr_mod.DEFAULT_STEPS,
                   lang: str = "en") -> dict:
    with manager.use(_key(model), label="attribution") as lm, manager.guard():
        a = attr_mod.attribute(lm, text, target or "", contrast or "", method, steps)
    return {"model": a.model_name, "tokens": a.tokens, "scores": [_r(s) for s in a.scores],
            "fixed": a.fixed, "method": a.method, "target": a.target, "contrast": a.contrast,
            "score": a.score, "value": _r(a.value),
            "baseline_value": None if a.method != "ig" else _r(a.baseline_value),
            "completeness_error": a.completeness_error, "steps": a.steps,
            "seconds": round(a.seconds, 3), "candidates": [_guess(g) for g in a.candidates],
            "notice": render(a.notice, lang) if a.notice else None}


def rollout_json(manager, model: str, text: str, lang: str = "en") -> dict:
    with manager.use(_key(model), label="rollout") as lm, manager.guard():
        r = attention_rollout(lm, text)
    return {"model": r.model_name, "view": r.view, "layers": r.layers, "tokens": r.tokens,
            "rollout": [[_r(x) for x in row] for row in r.rollout[-1]],
            "raw_last_layer": [[_r(x) for x in row] for row in r.raw[-1]],
            "notice": render(r.notice, lang) if r.notice else None}


def branch_json(manager, model: str, prompt: str, choices: str = "", lang: str = "en") -> dict:
    ranks = parse_choices(choices)
    with manager.use(_key(model), label="branching") as lm, manager.guard():
        b = branch(lm, prompt, ranks, EXTEND)
    return {"model": b.model_name, "prompt": b.prompt, "choices": b.choices, "text": b.text,
            "logprob": _r(b.logprob), "probability": b.probability, "ended": b.ended,
            "steps": [{"index": s.index, "token": s.chosen.token, "token_id": s.chosen.token_id,
                       "prob": _r(s.chosen.prob), "rank": s.rank, "picked": s.picked,
                       "top": [_guess(g) for g in s.top]} for s in b.steps]}


def register_api(manager) -> None:
    """The four endpoints (JSON in, JSON out) in the device's concurrency group."""
    def logit_lens_api(model: str, text: str, lang: str = "en") -> dict:
        """Each layer's top tokens and probabilities per position through the final norm and
        output layer; final_max_abs_diff checks the last layer against the model's output."""
        return logit_lens_json(manager, model, text, lang)

    def attribute_api(model: str, text: str, target: str = "", contrast: str = "",
                      method: str = "ig", steps: int = attr_mod.DEFAULT_STEPS,
                      lang: str = "en") -> dict:
        """Per-token scores for the target (empty: the model's own choice) or for
        logit(target) - logit(contrast); method "ig" or "grad_x_input"."""
        return attribute_json(manager, model, text, target, contrast, method, steps, lang)

    def attention_rollout_api(model: str, text: str, lang: str = "en") -> dict:
        """Attention rollout through every layer: rollout[query][key], rows sum to 1."""
        return rollout_json(manager, model, text, lang)

    def branch_api(model: str, prompt: str, choices: str = "", lang: str = "en") -> dict:
        """The continuation after the choices so far (ranks, 1 = most likely, e.g. "1, 3"),
        then the model's own choice for a few more steps; the top 5 at every step."""
        return branch_json(manager, model, prompt, choices, lang)

    for fn, name in ((logit_lens_api, "logit_lens"), (attribute_api, "attribute"),
                     (attention_rollout_api, "attention_rollout"), (branch_api, "branch")):
        gr.api(friendly(fn), api_name=name, **HEAVY)


# ---- layout and wiring ----------------------------------------------------------------------
def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="why.intro")
    with loc.Accordion(label_key="why.about_title", open=False, elem_id="why-about"):
        loc.Markdown(value_key="why.about")
    with gr.Row():
        with gr.Column(scale=3):
            text = loc.Textbox(label_key="why.text", info_key="why.text_info", lines=2,
                               value_key="why.text_value", elem_id="why-text")
        with gr.Column(scale=2):
            model = model_picker(ctx, "attention", label_key="why.model", elem_id="why-model",
                                 value="smollm2")
            note = gr.Markdown(elem_id="why-model-note")
    lens_state, attr_state, roll_state, tree_state = (gr.State(None) for _ in range(4))
    with gr.Tabs(elem_id="why-subtabs") as subtabs:
        with loc.Tab(label_key="why.tab.lens", id="why-lens-tab"):
            loc.Markdown(value_key="why.lens_help")
            lens_run = loc.Button(value_key="why.lens_run", variant="primary",
                                   elem_id="why-lens-run")
            lens_msg = action_message("why-lens-msg")
            lens_verify = gr.Markdown(elem_id="why-lens-verify")
            lens_summary = gr.Markdown(elem_id="why-lens-summary")
            lens_grid = gr.Plot(elem_id="why-lens-grid", show_label=False)
            lens_col = loc.Dropdown(label_key="why.lens_column", choices=[], value=None,
                                    elem_id="why-lens-col")
            lens_curve = gr.Plot(elem_id="why-lens-curve", show_label=False)
        with loc.Tab(label_key="why.tab.attr", id="why-attr-tab"):
            loc.Markdown(value_key="why.attr_help")
            with gr.Row():
                target = loc.Textbox(label_key="why.target", elem_id="why-target", scale=2)
                contrast = loc.Textbox(label_key="why.contrast", elem_id="why-contrast", scale=2)
            with gr.Row():
                method = loc.Radio(label_key="why.method", value="ig", elem_id="why-method",
                                   choices=[(t(f"why.method.{m}", loc.lang), m)
                                            for m in attr_mod.METHODS])
                steps = loc.Slider(label_key="why.steps", minimum=attr_mod.MIN_STEPS,
                                   maximum=256, step=1, value=attr_mod.DEFAULT_STEPS,
                                   elem_id="why-steps")
            steps_est = gr.Markdown(views.steps_estimate(attr_mod.DEFAULT_STEPS, None, None,
                                                         loc.lang, SECONDS_PER_STEP),
                                    elem_id="why-steps-est")
            attr_run = loc.Button(value_key="why.attr_run", variant="primary",
                                   elem_id="why-attr-run")
            attr_msg = action_message("why-attr-msg")
            attr_tokens = gr.HTML(elem_id="why-attr-tokens")
            attr_summary = gr.Markdown(elem_id="why-attr-summary")
            loc.Markdown(value_key="why.attr_candidates")
            candidates = gr.Dataframe(elem_id="why-candidates", interactive=False, wrap=True,
                                      datatype="str", max_height=360)
        with loc.Tab(label_key="why.tab.rollout", id="why-roll-tab"):
            loc.Markdown(value_key="why.roll_help")
            roll_run = loc.Button(value_key="why.roll_run", variant="primary",
                                   elem_id="why-roll-run")
            roll_msg = action_message("why-roll-msg")
            roll_notes = gr.Markdown(elem_id="why-roll-notes")
            roll_layer = loc.Slider(label_key="why.roll_layer", minimum=0, maximum=29, step=1,
                                    value=0, elem_id="why-roll-layer")
            roll_plot = gr.Plot(elem_id="why-roll-plot", show_label=False)
        with loc.Tab(label_key="why.tab.branch", id=BRANCH_TAB):
            loc.Markdown(value_key="why.branch_help")
            branch_run = loc.Button(value_key="why.branch_run", variant="primary",
                                    elem_id="why-branch-run")
            branch_msg = action_message("why-branch-msg")
            branch_html = gr.HTML(elem_id="why-branch-text")
            branch_steps = gr.Dataframe(elem_id="why-branch-steps", interactive=False, wrap=True,
                                        datatype="str", max_height=480)
            loc.Markdown(value_key="why.tree_label")
            branch_tree = gr.Dataframe(elem_id="why-branch-tree", interactive=False, wrap=True,
                                       datatype="str", max_height=360)
        with loc.Tab(label_key="why.tab.compare", id="why-cmp-tab"):
            loc.Markdown(value_key="why.cmp_help")
            with gr.Row():
                model_b = model_picker(ctx, "attention", label_key="why.cmp_model_b",
                                       elem_id="why-model-b", value="minilm")
                cmp_layer = loc.Number(label_key="why.cmp_layer", value=0, precision=0,
                                       minimum=0, elem_id="why-cmp-layer")
                cmp_head = loc.Number(label_key="why.cmp_head", value=0, precision=0,
                                      minimum=0, elem_id="why-cmp-head")
            cmp_run = loc.Button(value_key="why.cmp_run", variant="primary", elem_id="why-cmp-run")
            cmp_msg = action_message("why-cmp-msg")
            with gr.Row(equal_height=False):
                cmp_a = gr.HTML(elem_id="why-cmp-a")
                cmp_b = gr.HTML(elem_id="why-cmp-b")
            cmp_plot = gr.Plot(elem_id="why-cmp-plot", show_label=False)

    # ---- wiring (closure names differ from the endpoint names; their language argument is
    # named `lang`, which wire_action reads to translate errors) ------------------------------
    def lens_ui(key, txt, lang, progress=gr.Progress()):
        return show_lens(manager, key, txt, lang, progress)

    def attr_ui(key, txt, tgt, con, meth, n, lang, progress=gr.Progress()):
        return explain_tokens(manager, key, txt, tgt, con, meth, n, lang, progress)

    def roll_ui(key, txt, lang, progress=gr.Progress()):
        return show_rollout(manager, key, txt, lang, progress)

    def tree_ui(key, txt, lang, progress=gr.Progress()):
        return start_tree(manager, key, txt, lang, progress)

    def seed_ui(key, txt, steps, lang, progress=gr.Progress()):
        return seed_tree(manager, key, txt, steps, lang, progress)

    def branch_ui(tree, lang, evt: gr.SelectData, progress=gr.Progress()):
        return branch_from(manager, tree, lang, evt, progress)

    def cmp_ui(key_a, key_b, txt, lyr, hd, lang):
        return compare_models(manager, key_a, key_b, txt, lyr, hd, lang)

    def note_ui(key, lang):
        return model_note(manager, key, lang)

    lens_out = [lens_state, lens_verify, lens_summary, lens_grid, lens_curve, lens_col]
    wire_action(lens_run.click, lens_ui, [model, text, lang], lens_out, message=lens_msg,
                clear=lens_out[1:5], **HEAVY)
    wire_action(lens_col.input, lens_column, [lens_state, lens_col, lang],
                [lens_summary, lens_curve], message=lens_msg, clear=[])

    attr_out = [attr_state, attr_tokens, attr_summary, candidates, steps_est]
    wire_action(attr_run.click, attr_ui, [model, text, target, contrast, method, steps, lang],
                attr_out, message=attr_msg, clear=attr_out[1:4], **HEAVY)
    wire_action(candidates.select, pick_contrast, [attr_state, lang], [contrast],
                message=attr_msg, clear=[])
    steps.input(estimate, [steps, attr_state, lang], [steps_est], show_progress="hidden",
                api_visibility="private", queue=False)

    roll_out = [roll_state, roll_notes, roll_layer, roll_plot]
    wire_action(roll_run.click, roll_ui, [model, text, lang], roll_out, message=roll_msg,
                clear=[roll_notes, roll_plot], **HEAVY)
    wire_action(roll_layer.input, rollout_layer, [roll_state, roll_layer, lang], [roll_plot],
                message=roll_msg, clear=[], show_progress="hidden", trigger_mode="always_last")

    tree_out = [tree_state, branch_steps, branch_tree, branch_html]
    wire_action(branch_run.click, tree_ui, [model, text, lang], tree_out, message=branch_msg,
                clear=tree_out[1:], **HEAVY)
    wire_action(branch_steps.select, branch_ui, [tree_state, lang], tree_out,
                message=branch_msg, clear=[], **HEAVY)
    wire_action(branch_tree.select, open_branch, [tree_state, lang], tree_out,
                message=branch_msg, clear=[])

    wire_action(cmp_run.click, cmp_ui, [model, model_b, text, cmp_layer, cmp_head, lang],
                [cmp_a, cmp_b, cmp_plot], message=cmp_msg, **HEAVY)

    for trigger in (model.change, lang.change):
        trigger(note_ui, [model, lang], [note], show_progress="hidden",
                api_visibility="private", queue=False)
    if ctx.demo is not None:
        ctx.demo.load(note_ui, [model, lang], [note], show_progress="hidden",
                      api_visibility="private", queue=False)

    def relabel(lg, n, a):
        return (gr.update(choices=[(t(f"why.method.{m}", lg), m) for m in attr_mod.METHODS]),
                estimate(n, a, lg))
    lang.change(relabel, [lang, steps, attr_state], [method, steps_est], api_visibility="private")
    register_api(manager)

    def wire_generate(ctx: AppContext) -> None:
        """Generate's "explore other words" button: its model, the prompt it sent and the
        answer it wrote come here; the branching part opens with that answer as the first path
        of the tree, to branch from at any step."""
        gen = ctx.generate
        if gen is None:
            return
        event = gen.why.click(from_generate, [gen.model, gen.prompt, gen.sent],
                              [model, text, ctx.tabs, subtabs], api_visibility="private")
        # Generate's answer, step by step, is the tree's first path
        wire_action(event.success, seed_ui, [model, text, gen.steps, lang], tree_out,
                    message=branch_msg, clear=tree_out[1:], **HEAVY)
    ctx.after_build.append(wire_generate)


def from_generate(key, prompt, sent):
    """Generate's model and the prompt it actually sent (chat template included, so the
    branches start exactly where its answer started; its own prompt if nothing ran yet)."""
    text = sent if (sent or "").strip() else prompt
    return key, text, gr.Tabs(selected=TAB_ID), gr.Tabs(selected=BRANCH_TAB)
