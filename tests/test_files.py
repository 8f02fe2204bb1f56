"""models/core/files.py: the one atomic folder save (and the other shared helpers it owns)."""
from __future__ import annotations

import pytest

from models.core.files import atomic_folder


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_folder_appears_whole(tmp_path):
    final = tmp_path / "models" / "mine"
    with atomic_folder(final) as tmp:
        assert tmp.parent == final.parent and not final.exists()
        (tmp / "a.txt").write_text("a")
        (tmp / "b.txt").write_text("b")
    assert _names(final) == ["a.txt", "b.txt"]
    assert _names(final.parent) == ["mine"]                   # no temporary folder left


def test_atomic_folder_leaves_nothing_when_the_writer_raises(tmp_path):
    final = tmp_path / "mine"
    with pytest.raises(RuntimeError):
        with atomic_folder(final) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("disk full")
    assert not final.exists() and _names(tmp_path) == []


def test_atomic_folder_keeps_the_old_copy_when_the_writer_raises(tmp_path):
    final = tmp_path / "mine"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_folder(final) as tmp:
            (tmp / "new.txt").write_text("new")
            raise KeyboardInterrupt
    assert _names(final) == ["old.txt"] and _names(tmp_path) == ["mine"]


def test_atomic_folder_replaces_an_existing_folder(tmp_path):
    final = tmp_path / "mine"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with atomic_folder(final) as tmp:
        (tmp / "new.txt").write_text("new")
    assert _names(final) == ["new.txt"] and _names(tmp_path) == ["mine"]


def test_model_params_counts_a_tied_tensor_once(tmp_path):
    import torch
    from safetensors.torch import save_model

    from models.core.files import model_params, safetensors_params
    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 10, bias=False))
    assert model_params(model) == 2 * 40
    model[1].weight = model[0].weight                       # tie the head to the embeddings
    assert model_params(model) == 40
    save_model(model, str(tmp_path / "model.safetensors"))  # the saved files agree
    assert safetensors_params(tmp_path) == 40


@pytest.mark.parametrize("name, expected", [
    ("my-gpt2-en", "my-gpt2-en"), ("browser tiny", "browser-tiny"), ("gpt2", "gpt2"),
    ("../../x", "x"), ("/etc/passwd", "etc-passwd"), ("..", ""), ("a/../../b", "a-..-..-b"),
    (".hidden_", "hidden"), ("情感 模型", ""), ("BERT 情感 v1.0", "BERT-v1.0"),
    ("x" * 59 + "-y", "x" * 59), (None, ""), ("  tiny-gpt  ", "tiny-gpt")])
def test_slug_is_one_safe_rule(name, expected):
    from models.core.files import SLUG_MAX, slug
    got = slug(name)
    assert got == expected
    assert slug(got) == got and len(got) <= SLUG_MAX
    assert slug(name, "model") == (expected or "model")
    assert got == "" or (got[0] not in "._-" and got[-1] not in "._-" and "/" not in got)
