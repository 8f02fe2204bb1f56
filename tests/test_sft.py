"""Instruction tuning with LoRA (models/training/sft/) on the tiny Llama of tests/tiny.py: the
loss counts only the answer's tokens, the loss falls, a stopped job keeps a usable adapter,
merged and unmerged models give the same outputs, the tuned model loads through the registry
and generates; the data reader's checks. Real SmolLM2: tests/test_sft_real.py."""
from __future__ import annotations

import json
import zipfile

import pytest
import torch

from models.core.errors import UserError
from models.core.jobs import JobRunner
from models.training.sft.data import (SAMPLE_HELDOUT, SAMPLE_TRAIN, follows, read_conversations,
                                      read_heldout, right_answer, sample_heldout)
from models.training.sft.job import ask_both, start_job, status_dict, teach_and_save
from models.training.sft.loop import (ALL_TARGETS, IGNORE, Callback, SFTConfig, collate, count_lora, encode, load_causal,
                                      render, train)
from models.training.sft.store import zip_model

PAIRS = [("what is the capital of france", "paris is the capital of france"),
         ("what did the cat do", "the cat sat on the mat"),
         ("what do language models do", "language models predict the next token"),
         ("what is the weather", "the weather is nice today")] * 4


def conv(prompt, answer):
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def pairs_file(tmp_path):
    return write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": p, "response": a} for p, a in PAIRS])


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    """The tiny Llama of tests/tiny.py with its (frozen, tied) embeddings scaled up 6x: at the
    builder's 0.02 init its logits stay near uniform whatever LoRA does, so nothing could be
    learned in a few steps."""
    from transformers import AutoModelForCausalLM

    from tests.tiny import make_llama
    folder = make_llama(tmp_path_factory.mktemp("sft") / "llama")
    model = AutoModelForCausalLM.from_pretrained(folder)
    with torch.no_grad():
        model.model.embed_tokens.weight.mul_(6.0)
    model.save_pretrained(folder)
    return folder


@pytest.fixture
def llama_manager(make_manager, llama):
    manager = make_manager()
    spec = manager.register_local(str(llama), name="tiny-llama")
    return manager, spec.key


def tiny_cfg(key, **kw):
    """Measured on the scaled tiny Llama: all seven matrices, lr 2e-2 take the loss from 6.2
    to 3.8 in 60 steps (q/v only, or 5e-2, learn much less)."""
    base = dict(base_model=key, rank=8, alpha=16, dropout=0.0, learning_rate=2e-2, steps=30,
                batch_size=4, max_length=96, eval_every=10, max_new_tokens=8, seed=0,
                target_modules=ALL_TARGETS)
    base.update(kw)
    return SFTConfig(**base)


# ---- the loss mask --------------------------------------------------------------------------
def test_only_answer_tokens_count(llama):
    _model, tok = load_causal(llama)
    messages = conv("what did the cat do", "the cat sat on the mat")
    ids, labels = encode(tok, messages)
    counted = [i for i, lab in zip(ids, labels) if lab != IGNORE]
    # exactly the tokens after the prompt that asks for the answer: the answer and the end mark
    prompt_len = len(tok(render(tok, messages[:1], generation_prompt=True),
                         add_special_tokens=False)["input_ids"])
    assert all(lab == IGNORE for lab in labels[:prompt_len])
    assert all(lab == i for i, lab in zip(ids[prompt_len:], labels[prompt_len:]))
    assert tok.decode(counted).startswith("the cat sat on the mat")
    assert "what did the cat do" not in tok.decode(counted)
    # two turns: both answers count, neither question does
    two = conv("what did the cat do", "it sat") + conv("where", "on the mat")
    ids2, labels2 = encode(tok, two)
    text = tok.decode([i for i, lab in zip(ids2, labels2) if lab != IGNORE])
    assert "it sat" in text and "on the mat" in text and "where" not in text
    # padding never counts
    batch = collate([(ids, labels), (ids2, labels2)], tok.pad_token_id)
    assert int((batch["labels"] != IGNORE).sum()) == len(counted) + sum(l != IGNORE for l in labels2)


def test_model_loss_equals_mean_over_answer_tokens(llama):
    model, tok = load_causal(llama)
    ids, labels = encode(tok, conv("what is the weather", "the weather is nice today"))
    batch = collate([(ids, labels)], tok.pad_token_id)
    with torch.no_grad():
        out = model(**batch)
    logits = out.logits[0, :-1]
    target = batch["labels"][0, 1:]
    keep = target != IGNORE
    manual = torch.nn.functional.cross_entropy(logits[keep], target[keep])
    assert out.loss.item() == pytest.approx(manual.item(), rel=1e-5)


def test_plain_layout_without_chat_template(tmp_path):
    from tests.tiny import make_llama
    folder = make_llama(tmp_path / "plain", chat=False)
    _model, tok = load_causal(folder)
    ids, labels = encode(tok, conv("what did the cat do", "the cat sat"))
    counted = tok.decode([i for i, lab in zip(ids, labels) if lab != IGNORE])
    assert counted.startswith("the cat sat") and "what did" not in counted


# ---- training -------------------------------------------------------------------------------
def test_loss_falls_and_adapter_learns(llama):
    examples = [conv(p, a) for p, a in PAIRS]
    cfg = tiny_cfg("x", steps=40)
    out = train(cfg, examples, llama, heldout=["what did the cat do"])
    first, last = sum(out.losses[:4]) / 4, sum(out.losses[-4:]) / 4
    assert last < 0.75 * first, out.losses
    assert 0 < out.trainable < out.total
    # LoRA counts from config.json match peft's own count
    config = json.loads((llama / "config.json").read_text())
    assert count_lora(config, cfg)[0] == out.trainable
    # evaluations at 0, 10, 20, 30 and the end; the base answers never change
    assert [e["step"] for e in out.evals] == [0, 10, 20, 30, 40]
    assert len({tuple(e["base"]) for e in out.evals}) == 1
    assert out.evals[-1]["tuned"] != out.evals[0]["tuned"]


def test_job_saves_registers_and_generates(llama_manager, pairs_file):
    manager, key = llama_manager
    jobs = JobRunner("test")
    data = read_conversations(pairs_file)
    job_id = start_job(manager, jobs, tiny_cfg(key), data, ["what did the cat do"], "tiny-tuned")
    job = jobs.wait(job_id, timeout=600)
    st = status_dict(job)
    assert st["status"] == "done", st["error"]
    assert st["steps"] and st["evals"] and st["trainable"] < st["total_params"]
    result = st["result"]
    assert result["key"].startswith("local:") and not result["merged"]
    spec = manager.registry.get(result["key"])
    assert "generate" in spec.tasks and "chat" in spec.tasks          # the other tabs list it
    folder = manager.registry.files_dir(spec)
    assert (folder / "adapter" / "adapter_model.safetensors").exists()
    assert (folder / "README.md").exists() and (folder / "model.safetensors").is_symlink()
    assert str(folder).startswith(str(manager.registry.cache_dir))     # inside the app's folder
    # loads through the registry (the manager applies the adapter) and generates what the
    # trained model wrote at the end of training; the base writes something else
    base, tuned = ask_both(manager, result["key"], "what did the cat do", max_new_tokens=8)
    assert tuned == st["evals"][-1]["tuned"][0] and tuned.strip()
    assert base == st["evals"][-1]["base"][0] and base != tuned
    # the zip holds the adapter, not the base's weights
    with zipfile.ZipFile(zip_model(folder)) as z:
        names = z.namelist()
    assert any(n.endswith("adapter_model.safetensors") for n in names)
    assert not any(n.endswith("/model.safetensors") for n in names)


def test_stopped_job_keeps_a_usable_adapter(llama_manager, pairs_file):
    manager, key = llama_manager
    data = read_conversations(pairs_file)
    steps = []

    class Steps(Callback):
        def on_step(self, info):
            steps.append(info.step)

    def stop_after_12():          # also asked between the batches of an evaluation
        return len(steps) >= 12
    result = teach_and_save(manager, tiny_cfg(key, steps=500), data, ["what did the cat do"],
                            "stopped", Steps(), should_stop=stop_after_12)
    assert result.stopped and result.steps == 12
    folder = manager.registry.files_dir(manager.registry.get(result.key))
    assert (folder / "adapter" / "adapter_model.safetensors").exists()
    ids = torch.tensor([[5, 6, 7, 8]])
    with manager.use(key) as lm, torch.no_grad():
        base = lm.model(ids).logits
    with manager.use(result.key) as lm, torch.no_grad():      # loads, and is not the base
        assert not torch.allclose(lm.model(ids).logits, base, atol=1e-3)
        new = lm.model.generate(ids, max_new_tokens=6, min_new_tokens=6, do_sample=False)
    assert new.shape[1] == ids.shape[1] + 6


def test_merged_and_unmerged_give_the_same_outputs(llama_manager, pairs_file):
    manager, key = llama_manager
    data = read_conversations(pairs_file)
    kept = teach_and_save(manager, tiny_cfg(key, steps=15), data, [], "kept")
    merged = teach_and_save(manager, tiny_cfg(key, steps=15, merge=True), data, [], "merged")
    folder = manager.registry.files_dir(manager.registry.get(merged.key))
    assert not (folder / "adapter").exists() and not (folder / "model.safetensors").is_symlink()
    ids = None
    logits = []
    for k in (kept.key, merged.key):
        with manager.use(k) as lm:
            if ids is None:
                ids = lm.tokenizer("what did the cat do", return_tensors="pt")["input_ids"]
            with torch.no_grad():
                logits.append(lm.model(ids).logits)
    assert torch.allclose(logits[0], logits[1], atol=1e-4)
    # the adapter unmerged (a detour beside each frozen W, as peft runs it) gives the same too
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    kept_dir = manager.registry.files_dir(manager.registry.get(kept.key))
    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(kept_dir),
                                         kept_dir / "adapter").eval()
    with torch.no_grad():
        assert torch.allclose(unmerged(input_ids=ids).logits, logits[1], atol=1e-4)
    # and it learned something: not the base's outputs
    with manager.use(key) as lm, torch.no_grad():
        base = lm.model(ids).logits
    assert not torch.allclose(base, logits[0], atol=1e-3)


def test_not_causal_base_is_refused(make_manager, tiny_models, pairs_file):
    manager = make_manager()
    spec = manager.register_local(str(tiny_models["bert"]), name="tiny-bert")
    with pytest.raises(UserError) as err:
        start_job(manager, JobRunner("t"), tiny_cfg(spec.key), read_conversations(pairs_file), [], "")
    assert err.value.code == "sft_not_causal"
    with pytest.raises(UserError) as err:
        load_causal(tiny_models["t5"])
    assert err.value.code == "sft_not_causal"


# ---- data -----------------------------------------------------------------------------------
def test_sample_is_big_enough_and_held_out(tmp_path):
    data = read_conversations(SAMPLE_TRAIN)
    held = sample_heldout()
    assert len(data.examples) >= 200 and len(held) >= 30
    assert not set(data.prompts) & {h["prompt"] for h in held}
    assert all(follows(ex[-1]["content"]) for ex in data.examples)     # the sample follows itself
    assert read_heldout(path=SAMPLE_HELDOUT)[0] == held[0]["prompt"]


def test_format_checker():
    assert follows('{"topic": "math", "answer": "12"}')
    assert follows('  {"topic": "geography", "answer": "Paris"}\n')
    assert not follows('The capital of France is Paris.')
    assert not follows('{"topic": "math", "answer": "12"} and more')
    assert not follows('{"topic": "cooking", "answer": "12"}')
    assert not follows('{"topic": "math", "answer": ""}')
    assert not follows('{"topic": "math"}')
    assert right_answer('{"topic": "math", "answer": " 12 "}', "12")
    assert not right_answer('{"topic": "math", "answer": "13"}', "12")


def test_csv_chat_and_bad_files(tmp_path):
    csv_file = tmp_path / "p.csv"
    csv_file.write_text('question,answer\n"hi, there",hello\n,empty prompt\nx,\nq2,a2\n', encoding="utf-8")
    data = read_conversations(csv_file)
    assert data.prompts == ["hi, there", "q2"]
    assert [n.code for n in data.notices] == ["sft_empty_rows"] and data.notices[0].params["n"] == 2
    chat = write_jsonl(tmp_path / "c.jsonl", [{"messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}]}])
    got = read_conversations(chat)
    assert got.kind == "chat" and got.examples[0][0]["role"] == "system"

    def code(path, **kw):
        with pytest.raises(UserError) as err:
            read_conversations(path, **kw)
        return err.value
    bad_order = write_jsonl(tmp_path / "o.jsonl", [{"messages": [
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": "hi"}]}])
    err = code(bad_order)
    assert err.code == "sft_role_order" and err.params["line"] == 1
    (tmp_path / "latin1.csv").write_bytes("prompt,response\ncaf\xe9,ok\n".encode("latin-1"))
    assert code(tmp_path / "latin1.csv").code == "sft_not_utf8"
    (tmp_path / "x.txt").write_text("a", encoding="utf-8")
    assert code(tmp_path / "x.txt").code == "sft_bad_format"
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert code(tmp_path / "cols.csv").code == "sft_no_columns"
    (tmp_path / "empty.csv").write_text("prompt,response\n,\n", encoding="utf-8")
    assert code(tmp_path / "empty.csv").code == "sft_no_pairs"
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a", "response": "b"}\nnot json\n', encoding="utf-8")
    err = code(tmp_path / "bad.jsonl")
    assert err.code == "sft_bad_json" and err.params["line"] == 2
    role = write_jsonl(tmp_path / "r.jsonl", [{"messages": [{"role": "bot", "content": "x"}]}])
    assert code(role).code == "sft_bad_role"


def test_big_file_is_sampled_with_a_notice(tmp_path):
    rows = [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(100_000)]
    data = read_conversations(write_jsonl(tmp_path / "big.jsonl", rows), seed=1)
    assert len(data.examples) == 2000
    notice = next(n for n in data.notices if n.code == "sft_sampled")
    assert notice.params == {"n": 100_000, "kept": 2000}


def test_too_long_rows_are_left_out_or_refused(llama):
    from models.training.sft.loop import encode_all
    _m, tok = load_causal(llama)
    short = conv("hi", "the cat sat")
    long = conv("hi", "the cat sat on the mat " * 40)
    kept, notices = encode_all(tok, [short, long], max_length=64)
    assert len(kept) == 1 and notices[0].code == "sft_cut_rows"
    with pytest.raises(UserError) as err:
        encode_all(tok, [long], max_length=64)
    assert err.value.code == "sft_too_long"


def test_settings_are_checked():
    with pytest.raises(UserError) as err:
        SFTConfig(rank=0).check()
    assert err.value.code == "sft_bad_setting"
    with pytest.raises(UserError) as err:
        SFTConfig(target_modules=()).check()
    assert err.value.code == "sft_no_targets"
