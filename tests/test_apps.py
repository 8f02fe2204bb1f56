"""Applications runners on tiny random models loaded through the registry: T5 (task
prefixes), BART, Marian (language pairs), a chat Llama (instruction prompts, batching),
DistilBERT-QA (spans, offsets, windows). Random weights write nonsense, so these tests
check what the runners promise — prompts, shapes, limits, spans, messages — not wording."""
from __future__ import annotations

import json
import math
import threading
from dataclasses import replace

import pytest
import torch

from models.runners.applications import run as apps
from models.runners.applications import advice as apps_advice
from models.runners.applications import qa as apps_qa
from models.runners.applications import prompts
from models.runners.batching import TOP_N, Batcher
from models.core.errors import UserError
from models.runners.generation import GenerationSettings
from tests.conftest import join_all
from tests.messages import english

GREEDY = GenerationSettings(greedy=True)


@pytest.fixture(scope="module")
def long_llama(tmp_path_factory):
    """The tiny chat Llama with a 1024-token window (RoPE works at any length), so an
    instruction prompt plus an answer fits."""
    from tests.tiny import make_llama
    folder = make_llama(tmp_path_factory.mktemp("llama-long") / "llama")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["max_position_embeddings"] = 1024
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def _copy(folder, to):
    import shutil
    return shutil.copytree(folder, to)


@pytest.fixture
def mgr(make_manager, tiny_models, long_llama, tmp_path):
    m = make_manager()
    m.keys = {"t5": m.register_local(str(tiny_models["t5"]), "t5").key,
              "bart": m.register_local(str(tiny_models["bart"]), "bart").key,
              "marian": m.register_local(str(tiny_models["marian"]), "opus-mt-en-de").key,
              # a second folder: one folder is one model in the registry, whatever its name
              "marian?": m.register_local(str(_copy(tiny_models["marian"], tmp_path / "mine")),
                                          "my-translator").key,
              "qa": m.register_local(str(tiny_models["distilbert-qa"]), "qa").key,
              "gpt2": m.register_local(str(tiny_models["gpt2"]), "gpt2").key,
              "llama": m.register_local(str(long_llama), "chat-llama").key}
    return m


def _check_insight(upd, greedy=True):
    assert len(upd.insight) == upd.n_tokens
    for row in upd.insight:
        probs = [mp for _t, mp, _s in row.candidates]
        assert len(row.candidates) == TOP_N and probs == sorted(probs, reverse=True)
        assert 0 < sum(probs) <= 1.0001 and 0 <= row.model_p <= probs[0] + 1e-6
        assert (row.sample_p is None) == greedy


def test_t5_uses_task_prefixes_and_streams_tokens_with_their_candidates(mgr):
    batcher = Batcher()
    with mgr.use(mgr.keys["t5"]) as lm:
        prep = apps.prepare_summarize(lm, "the cat sat on the mat. the dog ran in the park.", "short")
        assert prep.prompt_text.startswith("summarize: the cat sat")
        updates = list(apps.run(batcher, lm, prep, GREEDY))
        de = apps.prepare_translate(lm, "hello world", "en", "de")
        assert de.prompt_text == "translate English to German: hello world"
        with pytest.raises(UserError) as err:
            apps.prepare_translate(lm, "hello world", "en", "zh")
    assert err.value.code == "unsupported_pair" and "English → German" in english(err.value)
    final = updates[-1]
    assert final.done and not any(u.done for u in updates[:-1])
    assert [u.n_tokens for u in updates[:-1]] == list(range(1, final.n_tokens + 1))
    assert 1 <= final.n_tokens <= apps.LENGTHS["short"][1]
    _check_insight(final)


def test_bart_reads_plain_text_and_cuts_long_input_with_a_notice(mgr):
    with mgr.use(mgr.keys["bart"]) as lm:
        short = apps.prepare_summarize(lm, "the weather is nice today", "short")
        long = apps.prepare_summarize(lm, "the quick brown fox jumps over the lazy dog " * 40)
        out = apps.run_to_end(Batcher(), lm, long, GREEDY)
    assert short.prompt_text == "the weather is nice today" and not short.notices
    assert len(long.input_ids) <= 128 and [n.code for n in long.notices] == ["cut"]
    assert long.notices[0].params["n"] > 128
    assert out.done and out.n_tokens <= apps.LENGTHS["medium"][1]


def test_marian_translates_only_its_language_pair(mgr):
    with mgr.use(mgr.keys["marian"]) as lm:
        assert apps.lang_pair(lm.spec) == ("en", "de")
        prep = apps.prepare_translate(lm, "hello world", "en", "de")
        out = apps.run_to_end(Batcher(), lm, prep, GREEDY)
        with pytest.raises(UserError) as err:
            apps.prepare_translate(lm, "hello world", "en", "zh")
    assert prep.prompt_text == "hello world" and out.done
    assert err.value.code == "unsupported_pair" and "English → German" in english(err.value)
    with mgr.use(mgr.keys["marian?"]) as lm:       # a folder whose name gives no direction
        prep = apps.prepare_translate(lm, "hello world", "en", "zh")
    assert [n.code for n in prep.notices] == ["pair_unknown"]


def test_bad_requests_get_clear_errors(mgr):
    with mgr.use(mgr.keys["llama"]) as lm:
        for call, code in [(lambda: apps.prepare_summarize(lm, "  "), "empty_text"),
                           (lambda: apps.prepare_translate(lm, "hi", "en", "en"), "same_language"),
                           (lambda: apps.prepare_translate(lm, "hi", "en", "xx"), "bad_language"),
                           (lambda: apps.prepare_answer(lm, "", "some context"), "empty_text")]:
            with pytest.raises(UserError) as err:
                call()
            assert err.value.code == code
    with mgr.use(mgr.keys["gpt2"]) as lm:           # no chat template: cannot follow a task
        with pytest.raises(UserError) as err:
            apps.prepare_summarize(lm, "the cat sat on the mat")
    assert err.value.code == "wrong_task" and "gpt2" in english(err.value)
    with mgr.use(mgr.keys["qa"]) as lm:
        with pytest.raises(UserError) as err:
            apps_qa.answer(lm, "what is the capital", "   ")
    assert err.value.code == "qa_no_context"


def test_chat_formats_use_the_chat_template(mgr):
    with mgr.use(mgr.keys["llama"]) as lm:
        qa = apps.prepare_answer(lm, "what is the capital", "paris is the capital of france",
                                 fmt="chat")
        tr = apps.prepare_translate(lm, "hello world", "en", "zh", fmt="chat+system")
        zh = apps.prepare_summarize(lm, "人工智能正在改变教育，许多学校开始使用智能辅导系统。",
                                    fmt="chat")
    assert qa.prompt_text.startswith("<|im_start|>user\nAnswer the question using the context")
    assert "Context: paris is the capital of france" in qa.prompt_text
    assert qa.prompt_text.endswith("Question: what is the capital<|im_end|>\n<|im_start|>assistant\n")
    assert "into Chinese" in tr.prompt_text and "in Chinese" in zh.prompt_text
    assert tr.prompt_text.startswith("<|im_start|>system\n" + prompts.SYSTEM["translate"])


def test_default_formats_are_the_measured_ones(mgr):
    """The defaults of models/runners/applications/prompts.py (chosen by bench/bench_prompts.py) shape the
    prompt: a worked example in the question's language, then the real input."""
    with mgr.use(mgr.keys["llama"]) as lm:
        qa = apps.prepare_answer(lm, "what is the capital", "paris is the capital of france")
        zh = apps.prepare_answer(lm, "首都是哪里？", "法国的首都是巴黎。")
        tr = apps.prepare_translate(lm, "hello world", "en", "zh")
        de = apps.prepare_translate(lm, "hallo welt", "de", "fr")
        none = apps.prepare_answer(lm, "what is the capital of france", "")
        with pytest.raises(UserError) as err:
            apps.prepare_answer(lm, "what", "ctx", fmt="no-such-format")
    assert err.value.code == "bad_setting"
    assert qa.fmt.key == prompts.DEFAULT["answer"]["en"] and qa.copy_from == "paris is the capital of france"
    assert qa.prompt_text.endswith("Context: paris is the capital of france\n"
                                   "Question: what is the capital\nAnswer:")
    assert prompts.QA_SHOTS["en"][2] in qa.prompt_text and prompts.QA_SHOTS["zh"][2] in zh.prompt_text
    assert zh.fmt.key == prompts.DEFAULT["answer"]["zh"] and zh.fmt.span   # measured per language
    assert tr.prompt_text.endswith("English: hello world\nChinese:")
    assert prompts.TRANSLATE_SHOT["zh"] in tr.prompt_text
    assert prompts.TRANSLATE_SHOT["de"] in de.prompt_text and de.prompt_text.endswith("French:")
    assert none.copy_from is None and "Context" not in none.prompt_text   # nothing to copy from


def test_copy_format_answers_with_a_piece_of_the_context(mgr):
    """Even a random model, restricted to the context, answers with a piece of it."""
    context = "paris is the capital of france. berlin is the capital of germany."
    with mgr.use(mgr.keys["llama"]) as lm:
        for fmt in ("few-shot+copy", "chat+copy", "few-shot+span"):
            prep = apps.prepare_answer(lm, "what is the capital of france", context, fmt=fmt)
            out = apps.run_to_end(Batcher(), lm, prep, GREEDY)
            assert out.done and out.text and out.text in context, (fmt, out.text)
            assert apps.find_span(out.text, context) is not None
            _check_insight(out)


def test_long_inputs_are_cut_to_what_a_request_reads_with_one_notice(mgr, monkeypatch):
    """One rule for the applications (models/runners/applications/run.py): a span answer reads
    at most SPAN_MAX_TOKENS, a summary at most DOC_TOKENS, a translation no more source than its
    answer's length can hold; what is cut is said with the "cut" notice, never switched to
    another way of answering."""
    monkeypatch.setattr(apps, "SPAN_MAX_TOKENS", 600)
    monkeypatch.setattr(apps, "DOC_TOKENS", 800)
    long_text = "Paris is the capital of France and a large city. " * 100
    with mgr.use(mgr.keys["llama"]) as lm:
        qa = apps.prepare_answer(lm, "what is the capital", long_text, fmt="few-shot+span")
        summary = apps.prepare_summarize(lm, long_text, "short")
        short = apps.prepare_translate(lm, "Paris is big.", "en", "zh")
        cut = apps.prepare_translate(lm, long_text, "en", "zh", max_new_tokens=100)
        with pytest.raises(UserError) as asked_too_much:     # a question as long as the text
            apps.prepare_answer(lm, long_text[:1000], long_text, fmt="few-shot+span")
    assert asked_too_much.value.code == "question_too_long"
    assert qa.fmt.span and len(qa.input_ids) <= 600 and [n.code for n in qa.notices] == ["cut"]
    assert len(qa.copy_from) < len(long_text) and long_text.startswith(qa.copy_from.strip()[:100])
    assert len(summary.input_ids) <= 800 and [n.code for n in summary.notices] == ["cut"]
    assert short.notices == () and [n.code for n in cut.notices] == ["cut"]
    # a Chinese text cut where a character's bytes are split over tokens keeps whole characters
    zh = "巴黎是法国的首都，也是一座很大的城市。" * 200
    with mgr.use(mgr.keys["llama"]) as lm:
        zh_prep = apps.prepare_summarize(lm, zh, "short")
    assert [n.code for n in zh_prep.notices] == ["cut"] and "\ufffd" not in zh_prep.copy_from
    assert zh.startswith(zh_prep.copy_from)
    assert cut.notices[0].params["room"] == 100 // 5            # into Chinese: 5 tokens per source token


def test_span_answers_score_whole_pieces_of_the_context(mgr):
    """Every candidate is a piece that starts and ends at a word (or a Chinese character); the
    chosen one is the best scored; sampling draws among the top-k pieces."""
    from models.runners.applications import span as apps_span
    context = "Paris is the capital of France. Berlin is in Germany."
    cands = apps_span.candidates(context, chinese=False)
    assert cands[0][:2] == [5, 8] and 31 - 1 in cands[0] and 32 in cands     # "Paris", "Paris is"
    assert all(context[a:b].strip() == context[a:b] and not context[b - 1] in ".'"
               for a, ends in cands.items() for b in ends)
    zh = apps_span.candidates("长城在中国，很长。", chinese=True)
    assert zh[0] == [1, 2, 3, 4, 5] and 5 not in zh                          # stops at "，"
    with mgr.use(mgr.keys["llama"]) as lm:
        prep = apps.prepare_answer(lm, "what is the capital of france", context, fmt="few-shot+span")
        pieces = apps_span.score_pieces(lm, prep.input_ids, context, False, " ",
                                        prompts.newline_ids(lm.tokenizer))
        best = apps.run_to_end(Batcher(), lm, prep, GREEDY)
        hot = GenerationSettings(greedy=False, temperature=5.0, top_k=3, seed=1)
        drawn = {apps.run_to_end(Batcher(), lm, prep, replace(hot, seed=s)).text for s in range(8)}
    top = sorted(pieces, key=lambda p: p.score, reverse=True)
    assert len(pieces) > 20 and best.text == context[top[0].start:top[0].end]
    assert drawn <= {context[p.start:p.end] for p in top[:3]}
    assert best.insight and best.n_tokens == len(best.insight)


def test_extractive_summaries_pick_the_best_scored_sentences_in_order(mgr):
    """The default summary format picks the text's own sentences the model scores highest
    (mean log-probability per token as the reply to the instruction), as many as the length
    asks for and never all of them, kept in the text's order; Chinese sentences too."""
    from models.runners.applications import span as apps_span
    text = ("The cat sat on the mat. A storm hit the coast on Monday. The dog ran in the park. "
            "Prices rose again in May.")
    zh = "猫坐在垫子上。周一暴风雨袭击了海岸。狗在公园里跑。"
    with mgr.use(mgr.keys["llama"]) as lm:
        outs = {}
        for length in ("short", "medium", "long"):
            prep = apps.prepare_summarize(lm, text, length)
            outs[length] = apps.run_to_end(Batcher(), lm, prep, GREEDY)
        spans = apps_span.sentences(text)
        scores = apps_span.sentence_scores(lm, prep.input_ids, text, spans)
        zh_out = apps.run_to_end(Batcher(), lm, apps.prepare_summarize(lm, zh, "long"), GREEDY)
    assert prep.fmt.extract and prep.copy_from == text and len(spans) == 4
    for length, n in (("short", 1), ("medium", 2), ("long", 3)):
        picked = [text[a:b] for a, b in spans if text[a:b] in outs[length].text]
        assert len(picked) == n and outs[length].text == " ".join(picked), outs[length].text
        _check_insight(outs[length])
    best = max(range(4), key=lambda i: scores[i])
    assert outs["short"].text == text[spans[best][0]:spans[best][1]]
    assert zh_out.text in zh and zh_out.text.count("。") == 2        # 3 sentences: at most 2


def test_calibrated_span_answers_discount_what_the_model_likes_whatever_is_asked(mgr):
    """The calibrated formats score each piece under the real question and under a question
    that asks nothing, and pick by the difference (a share of it): the chosen piece is the
    best by that difference, and its shown probability is its real, uncalibrated one."""
    from models.runners.applications import span as apps_span
    context = "Paris is the capital of France. Berlin is in Germany."
    with mgr.use(mgr.keys["llama"]) as lm:
        prep = apps.prepare_answer(lm, "what is the capital of france", context,
                                   fmt="few-shot+span+calibrated")
        nl = prompts.newline_ids(lm.tokenizer)
        real = apps_span.score_pieces(lm, prep.input_ids, context, False, " ", nl)
        null = apps_span.score_pieces(lm, prep.null_ids, context, False, " ", nl)
        got = apps_span.answer(lm, prep.input_ids, context, False, " ", nl,
                               null_ids=prep.null_ids, calibrate=0.5)
        shown = apps.run_to_end(Batcher(), lm, prep, GREEDY)
        plain = apps.prepare_answer(lm, "what", context, fmt="few-shot+span")
    assert lm.tokenizer.decode(prep.null_ids).endswith(
        f"Question: {prompts.NULL_QUESTION['en']}\nAnswer:")
    nulls = {(p.start, p.end): p.score for p in null}
    diff = {(p.start, p.end): p.score - 0.5 * nulls[p.start, p.end] for p in real}
    best = max(diff, key=diff.get)
    assert (got.start, got.end) == best and shown.text == context[best[0]:best[1]]
    raw = {(p.start, p.end): p.score for p in real}
    assert got.probability == pytest.approx(math.exp(raw[best]))
    assert plain.null_ids is None


def test_streamed_text_never_ends_in_a_broken_character(mgr):
    """A byte-level tokenizer can stop in the middle of a character; the user never sees "�".
    Hot sampling makes the tiny model draw byte tokens that are half a character (without the
    trimming, nearly every streamed text here holds a "�")."""
    hot = GenerationSettings(greedy=False, temperature=3.0, top_k=0, top_p=1.0, seed=0)
    seen = []
    with mgr.use(mgr.keys["llama"]) as lm:
        broken = [i for i in range(len(lm.tokenizer)) if "\ufffd" in lm.tokenizer.decode([i])]
        for text in ("人工智能正在改变教育。", "熊猫主要吃竹子。"):
            prep = apps.prepare_translate(lm, text, "zh", "en", fmt="chat-raw")
            seen += [u.text for u in apps.run(Batcher(), lm, prep, hot)]
    assert len(broken) > 50 and len(seen) > 20
    assert not [t for t in seen if "\ufffd" in t]


def test_clean_keeps_the_answer_line():
    stop = prompts.FORMATS["answer"]["plain"]
    raw = prompts.FORMATS["answer"]["chat-raw"]
    assert prompts.clean(" Answer: Nairobi\nThe answer is: Nairobi", stop) == ("Nairobi", True)
    assert prompts.clean("\n“Canberra”", stop) == ("Canberra", False)
    assert prompts.clean(" 答案：北京\n", stop) == ("北京", True)
    assert prompts.clean("北京\ufffd", stop) == ("北京", False)
    assert prompts.clean("line one\nline two\ufffd", raw) == ("line one\nline two", False)


def test_concurrent_requests_are_batched_and_never_mixed(mgr):
    """Four users at once: one padded generate call serves them, and each gets exactly what
    it would get alone (greedy), despite different prompt lengths (left padding)."""
    questions = ["what is the capital", "who sat on the mat", "hello world",
                 "what does the quick brown fox jump over"]
    with mgr.use(mgr.keys["llama"]) as lm:
        preps = [apps.prepare_answer(lm, q, "paris is the capital of france") for q in questions]
        solo = [apps.run_to_end(Batcher(), lm, p, GREEDY).text for p in preps]
        batcher = Batcher(window_s=0.5)
        results: dict[int, apps.AppUpdate] = {}
        barrier = threading.Barrier(len(preps), timeout=60)

        def user(i):
            barrier.wait()
            results[i] = apps.run_to_end(batcher, lm, preps[i], GREEDY)
        threads = [threading.Thread(target=user, args=(i,)) for i in range(len(preps))]
        for th in threads:
            th.start()
        join_all(threads, 120, "the users' generations")
    assert batcher.batches_run < len(preps)
    assert max(r.batch_size for r in results.values()) > 1
    assert [results[i].text for i in range(len(preps))] == solo


def test_sampling_insight_shows_what_top_k_cuts(mgr):
    settings = GenerationSettings(greedy=False, temperature=0.5, top_k=2, top_p=1.0, seed=1)
    with mgr.use(mgr.keys["llama"]) as lm:
        prep = apps.prepare_answer(lm, "what is the capital", "paris is the capital of france")
        out = apps.run_to_end(Batcher(), lm, prep, settings)
    _check_insight(out, greedy=False)
    for row in out.insight:
        kept = [s for _t, _m, s in row.candidates]
        assert kept[2:] == [0.0] * (TOP_N - 2) and abs(sum(kept) - 1) < 1e-4
        assert kept[0] >= row.candidates[0][1]     # temperature < 1 sharpens the favourite


def test_leaving_early_frees_the_batcher(mgr):
    batcher = Batcher()
    with mgr.use(mgr.keys["llama"]) as lm:
        prep = apps.prepare_answer(lm, "what is the capital", "paris is the capital of france")
        stream = apps.run(batcher, lm, prep, GREEDY)
        next(stream)
        stream.close()                              # the browser went away
        again = apps.run_to_end(batcher, lm, prep, GREEDY)
    assert again.done and again.n_tokens >= 1


def test_best_span_picks_the_highest_valid_pair():
    start = torch.tensor([9.0, 0.0, 5.0, 0.0, 0.0, 0.0])
    end = torch.tensor([9.0, 0.0, 0.0, 0.0, 6.0, 1.0])
    mask = torch.tensor([False, True, True, True, True, True])   # token 0 is the question
    s, e, score = apps_qa.best_span(start, end, mask)
    assert (s, e) == (2, 4) and 0.5 < score <= 1
    s, e, _ = apps_qa.best_span(start, end, mask, max_answer_tokens=2)   # 2..4 is too long
    assert e - s < 2


def test_extractive_qa_returns_a_span_of_the_context_and_windows_long_ones(mgr):
    short = "paris is the capital of france. berlin is the capital of germany."
    long = " ".join(f"sentence {i}: the cat sat on the mat." for i in range(60))
    with mgr.use(mgr.keys["qa"]) as lm:
        one = apps_qa.answer(lm, "what is the capital of france", short)
        many = apps_qa.answer(lm, "where did the cat sit", long, stride=32)
        # one window per forward pass when a request's memory holds no more: the same answer
        piecewise = apps_qa.answer(replace(lm, request_bytes=1), "where did the cat sit", long,
                                   stride=32)
    assert piecewise == replace(many, seconds=piecewise.seconds)
    with mgr.use(mgr.keys["qa"]) as lm:
        enc, max_len = apps_qa.prepare(lm, "where did the cat sit", long, stride=32)
    for ans, ctx in ((one, short), (many, long)):
        assert ans.answer and ctx[ans.start:ans.end] == ans.answer and 0 < ans.score <= 1
    assert one.windows == 1 and many.windows > 1 and max_len == 128
    covered = set()                                # every context character is in some window
    for w in range(enc["input_ids"].shape[0]):
        for sid, (a, b) in zip(enc.sequence_ids(w), enc["offset_mapping"][w].tolist()):
            if sid == 1:
                covered.update(range(a, b))
    assert {i for i, ch in enumerate(long) if not ch.isspace()} <= covered
    first, second = (enc["offset_mapping"][w].tolist() for w in (0, 1))
    ids0, ids1 = enc.sequence_ids(0), enc.sequence_ids(1)
    end0 = max(b for sid, (_a, b) in zip(ids0, first) if sid == 1)
    start1 = min(a for sid, (a, _b) in zip(ids1, second) if sid == 1)
    assert start1 < end0                           # neighbouring windows overlap (stride)


def test_find_span_locates_a_generated_answer():
    assert apps.find_span("Jane Austen.", "A novel by Jane Austen, 1813.") == (11, 22)
    assert apps.find_span("Nobody", "A novel by Jane Austen") is None
    context = "Kenya is a country in East Africa. Its capital is Nairobi."
    a, b = apps.find_span("The capital of Kenya is Nairobi.", context, "What is the capital of Kenya?")
    assert context[a:b] == "Nairobi"


def test_advice_names_the_better_model_honestly_offline(make_manager):
    registry = make_manager().registry
    note = apps_advice.advice(registry, "translate", "smollm2", "en", "zh")
    assert note.code == "better_offline_translate" and note.params["better"] == "opus-mt-en-zh"
    assert "translates poorly" in english(note) and "135M" in english(note)
    assert apps_advice.advice(registry, "answer", "smollm2", "zh").params["better"] != \
        "distilbert-base-cased-distilled-squad"      # the SQuAD model reads English only
    assert apps_advice.advice(registry, "summarize", "hub:t5-small") is None    # already a specialist


def test_every_message_of_the_applications_has_chinese():
    import re
    from pathlib import Path

    from webapp.i18n import STRINGS
    root = Path(__file__).resolve().parent.parent / "models" / "runners"
    source = "".join((root / f).read_text(encoding="utf-8") for f in (
        "applications/run.py", "applications/qa.py", "batching.py", "metrics.py"))
    errors = set(re.findall(r'UserError\("([a-z_]+)"', source))
    notices = {c for c in re.findall(r'Notice\("([a-z_]+)"', source) if not c.endswith("_")} | {
        f"better_offline_{task}" for task in apps_advice.BETTER}
    assert {"unsupported_pair", "qa_no_context", "wrong_task"} <= errors and "cut" in notices
    missing = [f"err.{c}" for c in errors if not STRINGS.get(f"err.{c}", ("", ""))[1]]
    missing += [f"notice.{c}" for c in notices if not all(STRINGS.get(f"notice.{c}", ("", "")))]
    assert not missing
