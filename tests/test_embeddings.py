"""Sentence embeddings: mean pooling + normalisation, similarity, 2-D maps, neighbours, and the
input checks a user meets (one sentence, too many, a binary upload)."""
from __future__ import annotations

import numpy as np
import pytest

from models.core.errors import UserError
from models.runners import embeddings as emb
from tests.messages import english


@pytest.fixture
def tiny_encoder(make_manager, tiny_models):
    manager = make_manager()
    key = manager.register_local(str(tiny_models["bert"]), name="tiny-bert").key
    with manager.use(key) as lm:
        yield lm


def test_vectors_are_unit_length_and_padding_does_not_change_them(tiny_encoder):
    short = "the cat sat"
    alone, _ = emb.embed(tiny_encoder, [short])
    batched, _ = emb.embed(tiny_encoder, [short, "the quick brown fox jumps over the lazy dog " * 3])
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.allclose(alone[0], batched[0], atol=1e-5)     # mean over real tokens only


def test_analyse_shapes_and_symmetric_similarity(tiny_encoder):
    items = emb.parse_sentences(emb.example_text("en"))
    res = emb.analyse(tiny_encoder, items, "pca")
    n = len(items.sentences)
    assert res.coords.shape == (n, 2) and res.similarity.shape == (n, n)
    assert np.allclose(res.similarity, res.similarity.T)
    assert np.allclose(np.diag(res.similarity), 1.0, atol=1e-5)
    assert len(res.explained) == 2 and res.explained[0] >= res.explained[1]
    tsne = emb.analyse(tiny_encoder, items, "tsne")
    assert tsne.coords.shape == (n, 2) and np.isfinite(tsne.coords).all()


def test_nearest_excludes_the_sentence_itself_and_ranks_by_cosine(tiny_encoder):
    res = emb.analyse(tiny_encoder, emb.parse_sentences("a\nb b\nc c c\nd"), "pca")
    nbs = emb.nearest(res, res.vectors[0], k=3, exclude=0)
    assert [n.index for n in nbs] == [int(i) for i in np.argsort(-res.similarity[0]) if i != 0][:3]
    assert all(a.score >= b.score for a, b in zip(nbs, nbs[1:]))


def test_labels_and_bad_lists():
    items = emb.parse_sentences("I like tea\tdrinks\nDogs bark | animals\n\n  \nno label here")
    assert items.sentences == ["I like tea", "Dogs bark", "no label here"]
    assert items.labels == ["drinks", "animals", ""]
    with pytest.raises(UserError) as err:
        emb.parse_sentences("only one sentence")
    assert err.value.code == "pre_one_sentence"
    with pytest.raises(UserError) as err:
        emb.parse_sentences("   \n\n")
    assert err.value.code == "pre_no_sentences"
    many = emb.parse_sentences("\n".join(f"sentence number {i}" for i in range(2000)))
    assert len(many.sentences) == emb.MAX_SENTENCES and "2000" in english(many.notice)
    assert many.notice.code == "pre_sentences_capped"
    from webapp.i18n import render
    zh = render(many.notice, "zh")                 # the Chinese UI reads it in Chinese
    assert "只显示前 300 个" in zh and "2000" in zh


def test_tsne_needs_a_few_sentences():
    with pytest.raises(UserError) as err:
        emb.project(np.eye(3, 8), "tsne")
    assert err.value.code == "pre_tsne_small"


def test_uploaded_lists(tmp_path):
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(UserError) as err:
        emb.read_sentence_file(str(binary))
    assert err.value.code == "pre_binary_file"
    csv = tmp_path / "s.csv"
    csv.write_text('"Hello, world",greeting\nGood night,greeting\n', encoding="utf-8")
    items = emb.parse_sentences(emb.read_sentence_file(str(csv)))
    assert items.sentences == ["Hello, world", "Good night"] and items.labels == ["greeting"] * 2


@pytest.mark.slow
def test_minilm_paraphrases_are_closer_than_unrelated_sentences(real_manager):
    text = ("The cat is sleeping on the sofa.\nA kitten naps on the couch.\n"
            "The stock market fell sharply today.\nShare prices dropped a lot this afternoon.\n"
            "It is going to rain tomorrow.")
    with real_manager.use("minilm") as lm:
        res = emb.analyse(lm, emb.parse_sentences(text), "pca")
        query = emb.embed(lm, ["A cat is resting on a couch."])[0][0]
    sim = res.similarity
    assert sim[0, 1] > sim[0, 2] + 0.3 and sim[2, 3] > sim[2, 4] + 0.3
    assert emb.nearest(res, res.vectors[0], k=1, exclude=0)[0].index == 1
    assert emb.nearest(res, res.vectors[3], k=1, exclude=3)[0].index == 2
    assert emb.nearest(res, query, k=2)[0].index in (0, 1)
    assert res.coords.shape == (5, 2)
    assert res.vectors.shape == (5, 384) and res.unk_share == 0


@pytest.mark.slow
def test_minilm_warns_about_chinese_it_cannot_spell(real_manager):
    with real_manager.use("minilm") as lm:
        res = emb.analyse(lm, emb.parse_sentences(emb.example_text("zh")), "pca")
    assert res.unk_share > 0.2
