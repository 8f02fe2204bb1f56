""""Why this token?" on tiny random models of every family (tests/tiny.py): the logit lens's
last layer is the model's own output (and its middle rows are transformers' hidden states
through the final norm), integrated gradients' completeness error falls as steps grow and
matches Captum's LayerIntegratedGradients, contrastive scores are the difference of the two
single-target attributions, rollout rows sum to 1, a branch continues from the chosen token,
the side-by-side view holds both models, and the tab's handlers render tokens as text."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.core.errors import UserError
from models.runners import attribution as attr_mod
from models.runners.branching import EXTEND, branch, follow, parse_choices
from models.runners.logit_lens import logit_lens
from models.runners.parts import decoder_ids, embed, prepare
from models.runners.rollout import attention_rollout, rollout_of
from models.runners.side_by_side import compare
from tests.tiny import make_bert
from webapp.tabs import why as tab

TEXT = "the cat sat on the mat"
PREDICTING = ("llama", "gpt2", "t5", "bart", "marian", "bert-cls", "distilbert-cls")
LMS = ("llama", "gpt2", "t5", "bart", "marian")
CLASSIFIERS = ("bert-cls", "distilbert-cls")


def make_distilbert_cls(folder, like, num_labels: int = 3):
    """A DistilBERT classifier (as the app fine-tunes one from a DistilBERT base), with the
    config and tokenizer of the tiny DistilBERT in `like`."""
    from transformers import (AutoConfig, AutoTokenizer,
                              DistilBertForSequenceClassification)
    torch.manual_seed(0)
    cfg = AutoConfig.from_pretrained(like, num_labels=num_labels)
    cfg.architectures = None
    model = DistilBertForSequenceClassification._from_config(cfg, attn_implementation="eager")
    model.eval()
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(like).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def mgr(tiny_models, tmp_path_factory):
    """A manager with every tiny model registered, plus a BERT and a DistilBERT classifier
    (as fine-tuned in the app: *ForSequenceClassification)."""
    from models.core.device import pick_device
    from models.core.manager import ModelManager
    from models.core.registry import Registry
    root = tmp_path_factory.mktemp("why")
    manager = ModelManager(Registry(root / "cache", online=False), pick_device("cpu"))
    folders = dict(tiny_models, **{
        "bert-cls": make_bert(root / "bert-cls", head="classification", num_labels=3),
        "distilbert-cls": make_distilbert_cls(root / "distilbert-cls",
                                              tiny_models["distilbert-qa"])})
    manager.keys = {name: manager.register_local(str(folder), name).key
                    for name, folder in folders.items()}
    return manager


def _select(index, value=None):
    import gradio as gr
    return gr.SelectData(None, {"index": index, "value": value, "selected": True})


# ---- logit lens ---------------------------------------------------------------------------
@pytest.mark.parametrize("family", PREDICTING)
def test_lens_last_layer_is_the_models_output(mgr, family):
    with mgr.use(mgr.keys[family]) as lm:
        lens = logit_lens(lm, TEXT)
        assert lens.max_abs_diff < 1e-4 and lens.verified
        assert lens.rows == 3                     # embeddings + the tiny models' 2 layers
        # the last row's top guess at every column is the model's own argmax, found here
        # independently of the lens
        prep = prepare(lm, TEXT)
        ids = torch.tensor([prep.ids])
        with torch.no_grad():
            if family in CLASSIFIERS:
                own = lm.model(input_ids=ids).logits[0][None]
            elif lm.spec.kind == "seq2seq":
                dec = torch.tensor([_decoder_ids(lm, lens)])
                own = lm.model(input_ids=ids, decoder_input_ids=dec).logits[0]
            else:
                own = lm.model(input_ids=ids).logits[0][-lens.columns:]
        assert [g.token_id for g in lens.final] == own.argmax(-1).tolist()
        # (ties of a random model may order equal tokens differently: compare probabilities)
        np.testing.assert_allclose([cell[0].prob for cell in lens.top[-1]],
                                   own.float().softmax(-1).max(-1).values.numpy(), atol=1e-6)
        assert (lens.final_rank[-1] == 1).all()


def _decoder_ids(lm, lens):
    """The decoder input of a seq2seq lens: the start token, then the tokens the model wrote
    greedily (each column's final guess is the next column's token)."""
    from models.runners.parts import decoder_start
    return [decoder_start(lm)] + [g.token_id for g in lens.final[:-1]]


def test_lens_middle_rows_are_hidden_states_through_the_final_norm(mgr):
    """Row i of the lens = lm_head(norm(hidden_states[i])) with transformers' own hidden
    states (a parity check of the hooks)."""
    with mgr.use(mgr.keys["llama"]) as lm:
        lens = logit_lens(lm, TEXT)
        ids = torch.tensor([prepare(lm, TEXT).ids])
        with torch.no_grad():
            hs = lm.model(input_ids=ids, output_hidden_states=True).hidden_states
            for i in range(len(hs) - 1):        # the last one is already normed by the model
                p = lm.model.lm_head(lm.model.model.norm(hs[i]))[0].softmax(-1)
                top = p.max(-1)
                np.testing.assert_allclose([c[0].prob for c in lens.top[i]],
                                           top.values[-lens.columns:].numpy(), atol=1e-5)


@pytest.mark.parametrize("family", ["bert", "distilbert-qa"])
def test_methods_that_need_a_prediction_refuse_a_base_encoder(mgr, family):
    with mgr.use(mgr.keys[family]) as lm:
        for run in (lambda: logit_lens(lm, TEXT), lambda: attr_mod.attribute(lm, TEXT),
                    lambda: branch(lm, TEXT)):
            with pytest.raises(UserError) as err:
                run()
            assert err.value.code == "why_not_for_model"
        assert attention_rollout(lm, TEXT).layers == 2        # rollout works for every model


# ---- attribution --------------------------------------------------------------------------
@pytest.mark.parametrize("family", PREDICTING)
def test_integrated_gradients_completeness_error_falls_with_steps(mgr, family):
    with mgr.use(mgr.keys[family]) as lm:
        errors = [attr_mod.attribute(lm, TEXT, steps=n).completeness_error for n in (2, 8, 64)]
        # tiny random encoders are nearly linear in their input: their error is float noise
        # (~1e-3 of a tiny difference) at any step count; llama and t5 are not
        assert errors[2] <= errors[0] + 1e-2 and errors[2] < 0.05, errors
        if family in ("llama", "t5"):            # far from linear: the error really falls
            assert errors[0] > 10 * errors[2] and errors[0] > 1e-2, errors
        a = attr_mod.attribute(lm, TEXT, steps=64)
        total = sum(a.scores)
        assert abs(total - (a.value - a.baseline_value)) <= 0.05 * abs(a.value - a.baseline_value) + 1e-6
        assert all(s == 0.0 for s, f in zip(a.scores, a.fixed) if f)


def test_integrated_gradients_equal_captums_layer_integrated_gradients(mgr):
    from captum.attr import LayerIntegratedGradients
    with mgr.use(mgr.keys["llama"]) as lm:
        p = attr_mod.plan(lm, TEXT)
        ours = attr_mod.run(lm, p, "ig", 16)
        base_ids = torch.tensor([[tid if f else attr_mod.baseline_id(lm) for tid, f in
                                  zip(p.ids, p.fixed)]])
        target = p.target_ids[0]

        def forward(ids):
            return lm.model(input_ids=ids, logits_to_keep=1).logits[:, -1].float().log_softmax(-1)[:, target]
        lig = LayerIntegratedGradients(forward, lm.model.get_input_embeddings())
        ref = lig.attribute(torch.tensor([p.ids]), baselines=base_ids, n_steps=16,
                            method=attr_mod.rule(lm)).sum(-1)[0]
        np.testing.assert_allclose(ours.scores, ref.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("family", PREDICTING)
@pytest.mark.parametrize("method", attr_mod.METHODS)
def test_contrast_is_the_difference_of_two_single_targets(mgr, family, method):
    with mgr.use(mgr.keys[family]) as lm:
        first = attr_mod.attribute(lm, TEXT, method=method, steps=16)
        x, y = first.candidates[0].token, first.candidates[1].token
        a = attr_mod.attribute(lm, TEXT, x, "", method, 16)
        b = attr_mod.attribute(lm, TEXT, y, "", method, 16)
        c = attr_mod.attribute(lm, TEXT, x, y, method, 16)
        assert (a.target, b.target, c.target, c.contrast) == (x, y, x, y)
        assert c.score == "logit_diff" and abs(c.value - (a.value - b.value)) < 1e-4
        diff = np.array(a.scores) - np.array(b.scores)
        np.testing.assert_allclose(c.scores, diff, atol=1e-5 + 1e-4 * np.abs(diff).max())


def test_attribution_target_typed_as_text(mgr):
    """A typed continuation after a word gets its space; several tokens are explained
    together (teacher forcing), and a contrast uses the first token of each."""
    with mgr.use(mgr.keys["gpt2"]) as lm:
        a = attr_mod.attribute(lm, "the cat sat on", "the mat", steps=8)
        assert a.target_ids == lm.tokenizer(" the mat", add_special_tokens=False)["input_ids"]
        c = attr_mod.attribute(lm, "the cat sat on", "the mat", "a dog", steps=8)
        assert len(c.target_ids) == 1 and c.notice.code == "why_first_token"
    with mgr.use(mgr.keys["bert-cls"]) as lm:
        a = attr_mod.attribute(lm, TEXT, "LABEL_2", "label_1", steps=8)
        assert (a.target, a.contrast) == ("LABEL_2", "LABEL_1")


@pytest.mark.parametrize("args,code", [
    (dict(steps=1), "why_bad_steps"), (dict(steps="many"), "why_bad_steps"),
    (dict(method="shap"), "why_bad_method"), (dict(target="LABEL_9"), "why_unknown_class"),
    (dict(target="LABEL_0", contrast="LABEL_0"), "why_same_contrast")])
def test_attribution_refuses_bad_settings(mgr, args, code):
    with mgr.use(mgr.keys["bert-cls"]) as lm:
        with pytest.raises(UserError) as err:
            attr_mod.attribute(lm, TEXT, **args)
    assert err.value.code == code


# ---- rollout ------------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["bert", "llama", "gpt2", "t5", "bart", "marian",
                                    "distilbert-qa", "bert-cls"])
def test_rollout_rows_sum_to_one(mgr, family):
    with mgr.use(mgr.keys[family]) as lm:
        r = attention_rollout(lm, TEXT)
    np.testing.assert_allclose(r.rollout.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(r.raw.sum(-1), 1.0, atol=1e-5)
    assert r.view == ("encoder" if family in ("t5", "bart", "marian") else "self")
    if r.causal:                                  # a decoder never mixes in later tokens
        assert np.abs(np.triu(r.rollout[-1], 1)).max() < 1e-7


def test_rollout_is_the_product_of_the_layers():
    rng = np.random.default_rng(0)
    w = rng.random((3, 2, 4, 4))
    w /= w.sum(-1, keepdims=True)
    raw, roll = rollout_of(w)
    a = [(0.5 * w[i].mean(0) + 0.5 * np.eye(4)) for i in range(3)]
    a = [m / m.sum(-1, keepdims=True) for m in a]
    np.testing.assert_allclose(roll[2], a[2] @ a[1] @ a[0], atol=1e-6)
    np.testing.assert_allclose(raw[1], w[1].mean(0), atol=1e-6)


# ---- branching ----------------------------------------------------------------------------
@pytest.mark.parametrize("family", LMS)
def test_branch_continues_from_the_chosen_token(mgr, family):
    with mgr.use(mgr.keys[family]) as lm:
        b = branch(lm, TEXT, "2", extend=3)
        assert b.steps[0].chosen == b.steps[0].top[1] and b.steps[0].picked
        assert all(s.rank == 1 and not s.picked for s in b.steps[1:])
        # the next step's distribution is the model's, given the prompt and the chosen token
        # (computed here without the cache)
        tok = lm.tokenizer
        chosen = b.steps[0].chosen.token_id
        prompt_ids = (prepare(lm, TEXT).ids if lm.spec.kind == "decoder"
                      else tok(TEXT, add_special_tokens=True)["input_ids"])
        with torch.no_grad():
            if lm.spec.kind == "decoder":
                logits = lm.model(input_ids=torch.tensor([prompt_ids + [chosen]])).logits[0, -1]
            else:
                from models.runners.parts import decoder_start
                logits = lm.model(input_ids=torch.tensor([prompt_ids]), decoder_input_ids=torch.tensor(
                    [[decoder_start(lm), chosen]])).logits[0, -1]
        p = logits.softmax(-1)
        assert b.steps[1].top[0].token_id == int(p.argmax())
        assert abs(b.steps[1].top[0].prob - float(p.max())) < 1e-5
        assert abs(b.logprob - sum(np.log(s.chosen.prob) for s in b.steps)) < 1e-4


@pytest.mark.parametrize("bad", ["0", "6", "a, b", [1, 9], "[1, 2"])
def test_branch_choices_are_ranks(bad):
    with pytest.raises(UserError) as err:
        parse_choices(bad)
    assert err.value.code == "why_bad_choices"
    assert parse_choices("1, 3") == parse_choices("[1,3]") == parse_choices([1, 3]) == [1, 3]


def test_branch_tree_handlers_walk_back(mgr):
    tree, steps_df, tree_df, html = tab.start_tree(mgr, mgr.keys["llama"], TEXT, "en")
    assert len(tree_df) == 1 and len(steps_df) == len(tree["branches"][0]["steps"])
    first_token = tree["branches"][0]["steps"][0]
    # click the 3rd alternative of the first step: a second path from path 1
    tree2, steps2, tree_df2, html2 = tab.branch_from(mgr, tree, "en", _select([0, 3]))
    new = tree2["branches"][-1]
    assert len(tree2["branches"]) == 2 and new["parent"] == 1 and new["at"] == 0
    assert new["steps"][0].chosen.token_id == first_token.top[2].token_id
    assert steps2.iloc[0, 3].startswith("▶") and tree2["current"] == 2
    # the same click again opens the same path instead of adding one
    assert len(tab.branch_from(mgr, tree2, "en", _select([0, 3]))[0]["branches"]) == 2
    # walking back to path 1 shows its steps again
    back, steps_back, _, _ = tab.open_branch(tree2, "en", _select([0, 0]))
    assert back["current"] == 1 and steps_back.iloc[0, 1].startswith("▶")


def _softmax_at_each_step(lm, prompt_ids, ids):
    """The model's next-token distribution before each of `ids`, one full forward pass per
    step (no cache, no teacher forcing in one pass): what `follow` must reproduce."""
    from models.runners.parts import decoder_start
    out = []
    with torch.no_grad():
        for i in range(len(ids)):
            if lm.spec.kind == "decoder":
                logits = lm.model(input_ids=torch.tensor([prompt_ids + ids[:i]])).logits[0, -1]
            else:
                logits = lm.model(input_ids=torch.tensor([prompt_ids]), decoder_input_ids=torch.tensor(
                    [[decoder_start(lm)] + ids[:i]])).logits[0, -1]
            out.append(logits.float().softmax(-1))
    return out


@pytest.mark.parametrize("family", LMS)
def test_follow_takes_the_given_path_with_the_models_probabilities(mgr, family):
    with mgr.use(mgr.keys[family]) as lm:
        tok = lm.tokenizer
        eos = {tok.eos_token_id, lm.model.generation_config.eos_token_id}
        gen = torch.Generator().manual_seed(1)
        # a path the model would not take by itself: random tokens (most outside its top 5)
        ids = [i for i in torch.randint(0, len(tok), (12,), generator=gen).tolist()
               if i not in eos and i < lm.model.config.vocab_size][:8]
        b = follow(lm, TEXT, ids, extend=0)
        assert [s.chosen.token_id for s in b.steps] == ids and all(s.picked for s in b.steps)
        prompt_ids = (prepare(lm, TEXT).ids if lm.spec.kind == "decoder"
                      else tok(TEXT, add_special_tokens=True)["input_ids"])
        for s, p in zip(b.steps, _softmax_at_each_step(lm, prompt_ids, ids)):
            assert abs(s.chosen.prob - float(p[s.chosen.token_id])) < 1e-5
            assert s.rank == int((p > p[s.chosen.token_id]).sum()) + 1
            top = p.topk(5)
            assert [g.token_id for g in s.top] == top.indices.tolist()
            np.testing.assert_allclose([g.prob for g in s.top], top.values.tolist(), atol=1e-5)
        assert abs(b.logprob - sum(np.log(s.chosen.prob) for s in b.steps)) < 1e-4
        assert b.choices == [s.rank for s in b.steps] and not b.ended
        # then the model goes on with its own first choice, as `branch` does
        more = follow(lm, TEXT, ids[:3], extend=4)
        own = _softmax_at_each_step(lm, prompt_ids, [s.chosen.token_id for s in more.steps])
        assert [s.chosen.token_id for s in more.steps[:3]] == ids[:3]
        assert all(s.rank == 1 and not s.picked and s.chosen.token_id == int(p.argmax())
                   for s, p in zip(more.steps[3:], own[3:]))
        assert len(more.steps) == 7 or more.ended


def test_branching_starts_from_generates_answer(mgr):
    """Generate's sampled answer (temperature 0.3, seed 0, as the tab's defaults) is the
    tree's first path, token for token; a click at step k keeps the k-1 tokens before it."""
    from models.runners.generation import GenerationSettings, generate_text
    key = mgr.keys["llama"]
    with mgr.use(key) as lm:
        upd = generate_text(lm, TEXT, GenerationSettings(max_new_tokens=10, temperature=0.3,
                                                         seed=0))
        # the prompt as Generate sent it, its final newline included (the answer follows it)
        assert upd.prompt_text.endswith("assistant\n")
        own = _softmax_at_each_step(lm, decoder_ids(lm, upd.prompt_text), upd.token_ids)
    assert upd.steps and [s.token_id for s in upd.steps] == upd.token_ids
    # the prompt comes from Generate's "sent" box, which gives it back stripped: the tree
    # puts the chat template's final newline back
    import gradio as gr
    shown = gr.Code().postprocess(upd.prompt_text)
    assert shown == upd.prompt_text.strip()
    tree, steps_df, tree_df, html = tab.seed_tree(mgr, key, shown, upd.steps, "en")
    first = tree["branches"][0]
    assert tree["prompt"] == upd.prompt_text
    assert first["ids"] == upd.token_ids and first["text"] == upd.text and first["generated"]
    assert len(steps_df) == len(upd.token_ids) and len(tree_df) == 1
    for s, p in zip(first["steps"], own):
        assert abs(s.chosen.prob - float(p[s.chosen.token_id])) < 1e-5
    assert "Generate" in html and tab.views.esc(upd.text) in html
    # every row marks the token taken: in a top-5 cell, or named in the step cell
    for i, s in enumerate(first["steps"]):
        row = [str(c) for c in steps_df.iloc[i]]
        assert sum("▶" in c for c in row) == 1, row
        if s.rank > 5:
            assert "outside the top 5" in row[0]
    # branch at step k (1-based) with an alternative the answer did not take
    k = min(3, len(first["steps"]))
    col = next(c for c in range(1, 6) if first["steps"][k - 1].top[c - 1].token_id
               != first["ids"][k - 1])
    tree2, steps2, tree_df2, _ = tab.branch_from(mgr, tree, "en", _select([k - 1, col]))
    new = tree2["branches"][-1]
    assert new["parent"] == 1 and new["at"] == k - 1 and tree2["current"] == new["id"] == 2
    assert new["ids"][:k - 1] == upd.token_ids[:k - 1]
    assert new["ids"][k - 1] == first["steps"][k - 1].top[col - 1].token_id
    assert len(new["ids"]) == k + EXTEND or new["ended"]
    assert steps2.iloc[k - 1, col].startswith("▶") and not new.get("generated")
    # and from that branch again, at an earlier step
    col0 = next(c for c in range(1, 6) if new["steps"][0].top[c - 1].token_id != new["ids"][0])
    tree3 = tab.branch_from(mgr, tree2, "en", _select([0, col0]))[0]
    assert tree3["branches"][-1]["parent"] == 2 and len(tree3["branches"]) == 3
    back = tab.open_branch(tree3, "en", _select([0, 0]))[0]
    assert back["current"] == 1 and back["branches"][0]["ids"] == upd.token_ids


def test_seed_tree_without_an_answer_of_this_model(mgr):
    """Nothing generated yet: the model's own path, as before. An answer from a model with
    another vocabulary: the model's own path, and a note that says why."""
    key = mgr.keys["llama"]
    own, _, _, html = tab.seed_tree(mgr, key, TEXT + "\n", [], "en")
    with mgr.use(key) as lm:
        steps = _softmax_at_each_step(lm, decoder_ids(lm, TEXT + "\n"), own["branches"][0]["ids"])
        assert [s.chosen.token_id for s in own["branches"][0]["steps"]] == [
            int(p.argmax()) for p in steps]
        assert len(steps) == EXTEND or own["branches"][0]["ended"]
    assert "another vocabulary" not in html and not own["branches"][0].get("generated")
    from models.runners.generation import GenerationSettings, generate_text
    with mgr.use(mgr.keys["t5"]) as lm:
        other = generate_text(lm, TEXT, GenerationSettings(max_new_tokens=6, greedy=True),
                              chat=False)
    assert other.steps
    with mgr.use(key) as lm:
        assert tab.generated_ids(lm.tokenizer, other.steps) is None
        assert tab.generated_ids(lm.tokenizer, []) == []
    tree, _, _, html = tab.seed_tree(mgr, key, TEXT + "\n", other.steps, "zh")
    assert tree["branches"][0]["ids"] == own["branches"][0]["ids"]
    assert "词表不同" in html


# ---- side by side -------------------------------------------------------------------------
def test_side_by_side_holds_both_models(mgr):
    res = compare(mgr, mgr.keys["bert-cls"], mgr.keys["bert"], TEXT, layer=1, head=9)
    a, b = res.a, res.b
    assert a.model_name != b.model_name and a.tokens == b.tokens
    assert a.prediction and len(a.prediction) == 3 and a.attribution is not None
    assert b.prediction is None and b.missing["prediction"] == "no_head"
    assert (a.layer, a.head, b.head) == (1, 3, 3)           # clipped to 4 heads
    np.testing.assert_allclose(a.attention.sum(-1), 1.0, atol=1e-5)
    html_a, html_b, fig = tab.compare_models(mgr, mgr.keys["bert-cls"], mgr.keys["bert"], TEXT,
                                             1, 9, "zh")
    assert f'data-model="{mgr.keys["bert-cls"]}"' in html_a and f'data-model="{mgr.keys["bert"]}"' in html_b
    assert "没有任务头" in html_b and len(fig.data) == 2
    lms = compare(mgr, mgr.keys["llama"], mgr.keys["gpt2"], TEXT)
    assert lms.a.steps and lms.b.steps and lms.a.lens and lms.b.lens
    assert lms.a.model_name != lms.b.model_name


# ---- the tab's handlers and views ---------------------------------------------------------
def test_tokens_are_rendered_as_text(mgr):
    text = 'the <b>cat</b> & "mat"'
    a, tokens_html, summary, cands, est = tab.explain_tokens(
        mgr, mgr.keys["gpt2"], text, "", "", "ig", 8, "en")
    assert tokens_html.count("<span class=\"why-tok") == len(a.tokens)
    assert "&lt;" in tokens_html and "<b>cat" not in tokens_html
    assert "s per step" in est and list(cands.columns) == ["rank", "token", "probability"]
    lens, verify, lsum, grid, curve, col = tab.show_lens(mgr, mgr.keys["gpt2"], text, "zh")
    assert "已验证" in verify and grid.data[0].z.shape == (lens.rows, lens.columns)
    assert all("<b>" not in str(x) for x in grid.layout.xaxis.ticktext)


def test_pick_contrast_and_estimate(mgr):
    a = tab.explain_tokens(mgr, mgr.keys["bert-cls"], TEXT, "", "", "ig", 8, "en")[0]
    assert tab.pick_contrast(a, "en", _select([1, 1])) == a.candidates[1].token
    assert "32 steps" in tab.estimate(32, a, "en")
    assert "32 步" in tab.estimate(32, None, "zh")
    with pytest.raises(UserError):
        tab.lens_column(None, 0, "en")


def test_api_json_shapes(mgr):
    lens = tab.logit_lens_json(mgr, mgr.keys["llama"], TEXT)
    assert lens["final_max_abs_diff"] < 1e-4 and len(lens["layers"]) == 3
    assert len(lens["layers"][0]["top"]) == len(lens["tokens"])
    att = tab.attribute_json(mgr, mgr.keys["llama"], TEXT, steps=8)
    assert len(att["tokens"]) == len(att["scores"]) and att["method"] == "ig"
    assert att["completeness_error"] is not None
    roll = tab.rollout_json(mgr, mgr.keys["llama"], TEXT)
    np.testing.assert_allclose(np.array(roll["rollout"]).sum(-1), 1.0, atol=1e-3)
    br = tab.branch_json(mgr, mgr.keys["llama"], TEXT, "2, 1")
    assert br["steps"][0]["rank"] == 2 and br["choices"] == [2, 1]


def test_embeddings_are_the_models_own(mgr):
    """What integrated gradients interpolates is what the model's first layer reads."""
    with mgr.use(mgr.keys["t5"]) as lm:
        ids = prepare(lm, TEXT).ids
        e = embed(lm, ids)
        with torch.no_grad():
            out_ids = lm.model.get_encoder()(input_ids=torch.tensor([ids])).last_hidden_state
            out_emb = lm.model.get_encoder()(inputs_embeds=e).last_hidden_state
        torch.testing.assert_close(out_ids, out_emb)


# ---- the API, through the running app (gradio_client), with the packaged SmolLM2 ----------
@pytest.mark.slow
def test_api_endpoints_return_the_named_fields(app_url):
    """/logit_lens, /attribute, /attention_rollout and /branch as an API client calls them:
    the JSON fields the README lists, and numbers that are right, not merely present."""
    from tests.messages import _client
    client, text = _client(app_url), "The capital of France is"
    lens = client.predict("smollm2", text, "en", api_name="/logit_lens")
    assert lens["final_max_abs_diff"] < 1e-4 and lens["verified"]
    assert lens["final"][-1]["token"] == " Paris"
    assert len(lens["layers"]) == 31 and len(lens["layers"][-1]["top"]) == len(lens["tokens"])
    assert lens["layers"][-1]["top"][-1][0]["token"] == " Paris"       # last layer = the output

    att = client.predict("smollm2", text, "", "", "ig", 8, "en", api_name="/attribute")
    assert att["method"] == "ig" and att["target"] == " Paris" and att["steps"] == 8
    assert len(att["tokens"]) == len(att["scores"]) and att["score"] == "logp"
    diff = att["value"] - att["baseline_value"]       # completeness, as the error reports it
    assert abs(sum(att["scores"]) - diff) == pytest.approx(att["completeness_error"] * abs(diff),
                                                           abs=1e-3)
    other = att["candidates"][1]["token"]
    con = client.predict("smollm2", text, " Paris", other, "grad_x_input", 8, "en",
                         api_name="/attribute")
    assert (con["score"], con["contrast"], con["completeness_error"]) == ("logit_diff", other, None)
    assert con["value"] > 0                               # the model prefers its own choice

    roll = client.predict("smollm2", text, "en", api_name="/attention_rollout")
    r = np.array(roll["rollout"])
    assert r.shape == (len(roll["tokens"]),) * 2
    np.testing.assert_allclose(r.sum(-1), 1.0, atol=1e-3)

    own = client.predict("smollm2", text, "", "en", api_name="/branch")
    assert own["steps"][0]["token"] == " Paris" and own["choices"] == []
    alt = client.predict("smollm2", text, "2", "en", api_name="/branch")
    assert alt["choices"] == [2] and alt["steps"][0]["rank"] == 2 and alt["steps"][0]["picked"]
    assert alt["steps"][0]["token"] == own["steps"][0]["top"][1]["token"]
    assert alt["text"].startswith(alt["steps"][0]["token"].strip()) or \
        alt["text"].startswith(alt["steps"][0]["token"])
