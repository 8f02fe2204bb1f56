"""Analyse meaning on pure functions and tiny models: relations from a parse, word pieces merged
into entities, the LM's JSON checked against the schema, the text's preparation, the views."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from models.core.errors import UserError
from models.runners import analysis as an
from models.runners import analysis_lm as alm
from webapp.views import analysis as views


# ---- relations from a dependency parse (a Doc built by hand: no model needed) ---------------------
def _doc(words, heads, deps, pos, ents=()):
    import spacy
    from spacy.tokens import Doc, Span
    doc = Doc(spacy.blank("en").vocab, words=words, heads=heads, deps=deps, pos=pos)
    doc.ents = [Span(doc, s, e, label=lab) for s, e, lab in ents]
    return doc


def test_subject_verb_object_with_preposition_and_shared_subject():
    # "Marie Curie moved to Paris and won the prize ."
    words = ["Marie", "Curie", "moved", "to", "Paris", "and", "won", "the", "prize", "."]
    heads = [1, 2, 2, 2, 3, 2, 2, 8, 6, 2]
    deps = ["compound", "nsubj", "ROOT", "prep", "pobj", "cc", "conj", "det", "dobj", "punct"]
    pos = ["PROPN", "PROPN", "VERB", "ADP", "PROPN", "CCONJ", "VERB", "DET", "NOUN", "PUNCT"]
    doc = _doc(words, heads, deps, pos, [(0, 2, "PERSON"), (4, 5, "GPE")])
    rels = an.relations(doc)
    assert an.Relation("Marie Curie", "moved to", "Paris") in rels
    # "won" has no subject of its own: it shares "moved"'s; the object's determiner is dropped
    assert an.Relation("Marie Curie", "won", "prize") in rels
    assert len(rels) == 2


def test_passive_agent_and_negation():
    # "Apple was not founded by Jobs ."
    words = ["Apple", "was", "not", "founded", "by", "Jobs", "."]
    heads = [3, 3, 3, 3, 3, 4, 3]
    deps = ["nsubjpass", "auxpass", "neg", "ROOT", "agent", "pobj", "punct"]
    pos = ["PROPN", "AUX", "PART", "VERB", "ADP", "PROPN", "PUNCT"]
    rels = an.relations(_doc(words, heads, deps, pos, [(0, 1, "ORG"), (5, 6, "PERSON")]))
    assert rels == [an.Relation("Apple", "was not founded by", "Jobs")]


def test_a_verb_without_subject_or_object_gives_no_relation():
    words = ["Run", "!"]
    rels = an.relations(_doc(words, [0, 0], ["ROOT", "punct"], ["VERB", "PUNCT"]))
    assert rels == []


# ---- word tags -> entities ---------------------------------------------------------------------
def test_spans_from_bio_io_and_type_changes():
    text = "Ada Lovelace met Charles Babbage in London"
    words, pos = [], 0
    for w in text.split():
        words.append((pos, pos + len(w)))
        pos += len(w) + 1
    tags = ["B-PER", "I-PER", "O", "B-PER", "I-PER", "O", "B-LOC"]
    ents = an.spans_from_word_tags(words, tags, text)
    assert [(e.text, e.label) for e in ents] == [("Ada Lovelace", "PER"),
                                                 ("Charles Babbage", "PER"), ("London", "LOC")]
    # IO scheme (no B-): a run of the same label is one entity; a new type starts a new one
    ents = an.spans_from_word_tags(words, ["PER", "PER", "O", "PER", "LOC", "O", "LOC"], text)
    assert [(e.text, e.label) for e in ents] == [("Ada Lovelace", "PER"), ("Charles", "PER"),
                                                 ("Babbage", "LOC"), ("London", "LOC")]
    # B- right after B- of the same type: two entities
    assert len(an.spans_from_word_tags(words[:2], ["B-PER", "B-PER"], text)) == 2
    assert all(text[e.start:e.end] == e.text for e in ents)


def _tiny_tagger(folder):
    from transformers import BertConfig, BertForTokenClassification
    from tests.tiny import _bert_tokenizer
    tok = _bert_tokenizer()
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1,
                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                     num_labels=len(labels), id2label=dict(enumerate(labels)),
                     label2id={l: i for i, l in enumerate(labels)})
    torch.manual_seed(0)
    model = BertForTokenClassification._from_config(cfg, attn_implementation="eager")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return model, tok


def test_first_word_piece_decides_and_offsets_cover_the_word(tmp_path):
    model, tok = _tiny_tagger(tmp_path / "tagger")
    text = "zebrafish hello world"           # "zebrafish" is several pieces in the tiny vocabulary
    first_word = [i for i, w in enumerate(tok(text).word_ids()) if w == 0]
    assert len(first_word) > 1

    class Fake:
        """B-PER on the first piece of word 0, I-LOC on its later pieces (to be ignored), O
        elsewhere."""
        config = model.config
        word_ids = None

        def __call__(self, input_ids, **_):
            logits = torch.zeros(*input_ids.shape, 5)
            logits[..., 0] = 1
            for row in range(input_ids.shape[0]):
                for pos, wid in enumerate(self.word_ids(row)):
                    if wid == 0:
                        logits[row, pos, 1 if pos == first_word[0] else 4] = 5
            return SimpleNamespace(logits=logits)

    fake = Fake()
    words, tags = an.tag_words(fake, _Tok(tok, fake), "cpu", text)
    assert words == [(0, 9), (10, 15), (16, 21)]
    assert tags == ["B-PER", "O", "O"]
    ents = an.spans_from_word_tags(words, tags, text)
    assert [(e.text, e.start, e.end) for e in ents] == [("zebrafish", 0, 9)]


class _Tok:
    """The tiny tokenizer, handing each call's word ids to the fake model."""

    def __init__(self, tok, fake):
        self.tok, self.fake = tok, fake

    def __call__(self, *a, **k):
        enc = self.tok(*a, **k)
        self.fake.word_ids = enc.word_ids
        return enc


def test_a_registered_tagger_runs_through_the_manager(tmp_path, make_manager):
    _tiny_tagger(tmp_path / "tagger")
    manager = make_manager()
    spec = manager.registry.add_local(str(tmp_path / "tagger"), name="my-tagger")
    assert spec.head == "token-classification" and "analyze" in spec.tasks
    assert (spec.name, spec.key) in an.specialist_choices(manager)
    text = "hello world, machine translation " * 30        # longer than the 64-position window
    result = an.analyze(manager, an.SpacyPipelines(), spec.key, text)
    assert result.method == "tagger" and result.relations == []
    assert [n.code for n in result.notices] == ["an_no_parse"]
    for e in result.entities:                               # offsets point into the text
        assert result.text[e.start:e.end] == e.text and e.label in ("PER", "LOC")


def test_a_model_that_cannot_analyse_is_refused(make_manager):
    manager = make_manager()
    with pytest.raises(UserError) as err:
        an.way_of(manager, "minilm")
    assert err.value.code == "an_wrong_model"
    assert an.way_of(manager, "smollm2") == "lm" and an.way_of(manager, an.SPACY_KEY) == "parser"


# ---- the LM's JSON ---------------------------------------------------------------------------------
def test_valid_json_passes_and_words_around_it_are_ignored():
    raw = ('Sure! {"entities": [{"text": "Paris", "label": "place"}], "relations": '
           '[{"subject": "She", "predicate": "moved to", "object": "Paris"}], '
           '"sentiment": "neutral"} Hope this helps.')
    answer, errors = alm.validate(raw)
    assert errors == [] and answer.entities[0].text == "Paris"
    assert answer.relations[0].predicate == "moved to" and answer.sentiment == "neutral"


@pytest.mark.parametrize("raw, why", [
    ("The entities are Paris and Marie.", "no complete JSON"),
    ('{"entities": [{"text": "Paris", "label": "place"}', "no complete JSON"),   # cut off
    ('{"entities": [{"text": "Paris" "label": "place"}]}', "not valid JSON"),
    ('{"people": ["Marie"]}', "entities"),                                        # wrong shape
    ('{"entities": [{"text": "Paris"}]}', "label"),                               # field missing
    ('{"entities": [], "sentiment": "positive|negative|neutral"}', "sentiment"),  # copied schema
])
def test_invalid_output_is_reported_with_the_reason(raw, why):
    answer, errors = alm.validate(raw)
    assert answer is None and errors and why in " ".join(errors)


def test_json_object_with_braces_inside_strings():
    raw = 'x {"entities": [{"text": "a } b", "label": "other"}]} y {"more": 1}'
    assert json.loads(alm._first_json_object(raw))["entities"][0]["text"] == "a } b"


def test_entities_are_placed_in_the_text_and_invented_ones_listed():
    text = "Paris is big. I love Paris and paris."
    items = [alm.LMEntity(text="Paris", label="Place"), alm.LMEntity(text="Paris", label="place"),
             alm.LMEntity(text="paris", label="place"), alm.LMEntity(text="Rome", label="place")]
    found, missing = alm.place_entities(text, items)
    assert [(e.start, e.end) for e in found] == [(0, 5), (21, 26), (31, 36)]
    assert all(text[e.start:e.end].lower() == "paris" and e.label == "place" for e in found)
    assert missing == ["Rome"]


def test_tiny_lm_output_is_shown_as_invalid_with_its_raw_text(tiny_models, make_manager):
    manager = make_manager()
    spec = manager.registry.add_local(str(tiny_models["llama"]), name="tiny-llama")
    result = alm.analyze_lm(manager, spec.key, "Marie Curie moved to Paris.", max_new_tokens=6)
    assert result.valid is False and result.errors
    assert result.raw.startswith('{"entities": [{"text": "')      # the start we wrote for it
    assert result.entities == [] and "Marie Curie moved to Paris." in result.prompt
    status = views.status_md(result, "zh")
    assert "输出无效" in status and "{" not in status.split("原因")[0]


# ---- preparing the text ------------------------------------------------------------------------
def test_empty_text_is_refused():
    with pytest.raises(UserError) as err:
        an.prepare_text("   \n ")
    assert err.value.code == "empty_text"


def test_long_text_is_cut_with_a_notice():
    text = ("Marie Curie moved to Paris. " * 4000)[:100_000]
    cut, notices = an.prepare_text(text)
    assert len(cut) <= an.MAX_CHARS and text.startswith(cut) and cut.endswith(".")
    assert notices[0].code == "an_cut" and notices[0].params["total"] == len(text.strip())


def test_mixed_scripts_are_noted_and_chinese_detected():
    _, notices = an.prepare_text("Marie Curie 搬到了巴黎。")
    assert [n.code for n in notices] == ["an_mixed"]
    assert an.is_chinese("玛丽·居里搬到了巴黎。") and not an.is_chinese("Marie Curie 搬")


# ---- views -------------------------------------------------------------------------------------
def test_html_in_the_text_is_shown_as_text_and_entities_are_marked():
    text = "<b>Marie</b> met <script>alert(1)</script> in Paris"
    ents = [an.Entity("Marie", "PERSON", 3, 8), an.Entity("Paris", "GPE", 46, 51)]
    assert text[46:51] == "Paris"
    out = views.entities_html(text, ents, "zh")
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;" in out
    assert 'data-kind="person"' in out and 'data-kind="place"' in out
    assert "人物" in out and "地点" in out                   # the legend, in Chinese


def test_relations_table_and_graph():
    rels = [an.Relation("Marie", "moved to", "Paris"), an.Relation("Marie", "won", "<prize>")]
    table = views.relations_html(rels, "en")
    assert table.count("<tr>") == 3 and "&lt;prize&gt;" in table
    fig = views.relation_graph(rels, "en")
    assert list(fig.data[0].text) == ["Marie", "Paris", "&lt;prize&gt;"]
    assert {a.text for a in fig.layout.annotations if a.text} >= {"moved to", "won"}
    assert views.relation_graph([], "en") is None


def test_span_f1_on_a_known_example():
    gold = [{(0, 5, "person"), (10, 15, "place")}, {(0, 3, "organisation")}]
    pred = [{(0, 5, "person"), (10, 15, "person")}, set()]
    scores = an.span_f1(gold, pred)
    assert scores["tp"] == 1 and scores["precision"] == 0.5
    assert abs(scores["recall"] - 1 / 3) < 1e-9 and abs(scores["f1"] - 0.4) < 1e-9


# ---- Chinese: Baidu LAC's words -> entities and relations (word lists written by hand) --------
def _words(pairs):
    out, at = [], 0
    for word, tag in pairs:
        out.append((word, tag, at))
        at += len(word)
    return out


def test_lac_entities_keep_offsets_and_kinds():
    words = _words([("居里夫人", "PER"), ("于", "p"), ("1891年", "TIME"), ("移居", "v"),
                    ("巴黎", "LOC"), ("。", "w"), ("鲁迅", "PER"), ("写", "v"), ("了", "u"),
                    ("《", "w"), ("狂人日记", "nw"), ("》", "w")])
    text = "".join(w for w, _, _ in words)
    ents = an.lac_entities(words)
    assert [(e.text, e.kind) for e in ents] == [("居里夫人", "person"), ("1891年", "date"),
                                                ("巴黎", "place"), ("鲁迅", "person"),
                                                ("狂人日记", "other")]
    assert all(text[e.start:e.end] == e.text for e in ents)


def test_lac_relations_subject_before_the_verb_object_after_it():
    words = _words([("居里夫人", "PER"), ("于", "p"), ("1891年", "TIME"), ("移居", "v"),
                    ("巴黎", "LOC"), ("。", "w"),
                    ("她", "r"), ("在", "p"), ("索邦大学", "ORG"), ("学习", "v"), ("物理", "n"),
                    ("，", "w"), ("并", "c"), ("获得", "v"), ("诺贝尔奖", "nz"), ("。", "w"),
                    ("她", "r"), ("的", "u"), ("工作", "n"), ("改变", "v"), ("了", "u"),
                    ("科学", "n"), ("。", "w")])
    assert an.lac_relations(words) == [
        an.Relation("居里夫人", "移居", "巴黎"),
        an.Relation("她", "学习", "物理"),                # 索邦大学 follows 在: not the subject
        an.Relation("她", "获得", "诺贝尔奖"),            # a clause with no subject keeps 她
        an.Relation("她的工作", "改变", "科学")]          # 的 joins the noun phrase


def test_lac_relations_take_the_prepositions_place_when_the_verb_has_no_object():
    words = _words([("张三", "PER"), ("在", "p"), ("北京大学", "ORG"), ("读书", "v"), ("。", "w"),
                    ("苹果公司", "ORG"), ("宣布", "v"), ("将", "d"), ("在", "p"), ("柏林", "LOC"),
                    ("开设", "v"), ("新", "a"), ("办公室", "n"), ("。", "w"), ("下雨", "v"),
                    ("了", "u")])
    assert an.lac_relations(words) == [
        an.Relation("张三", "在…读书", "北京大学"),
        an.Relation("苹果公司", "开设", "新办公室")]      # 宣布 has no object of its own


def test_the_packaged_specialist_follows_the_texts_language():
    assert an.packaged_for("居里夫人于1891年移居巴黎。") == an.LAC_KEY
    assert an.packaged_for("Marie Curie moved to Paris.") == an.SPACY_KEY
    assert an.way_of(None, an.AUTO_KEY) == an.way_of(None, an.LAC_KEY) == "parser"


def test_copy_only_keeps_entity_names_to_pieces_of_the_text(tiny_models):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(tiny_models["llama"])
    start = '{"entities": [{"text": "'
    proc = alm.CopyOnly(tok, 0, start, "Marie Curie moved to Paris.")
    ids = {c: tok.convert_tokens_to_ids(c) for c in ("Z", "M", '"', "x")}
    assert len(set(ids.values())) == 4 and tok.unk_token_id not in ids.values()

    def pick(written: str, ranked: list) -> str:
        scores = torch.zeros(1, len(tok))
        for rank, c in enumerate(ranked):
            scores[0, ids[c]] = 10.0 - rank            # the model's preference, best first
        new = tok(written, add_special_tokens=False, return_tensors="pt")["input_ids"]
        out = proc(new, scores.clone())
        return tok.convert_ids_to_tokens(int(out[0].argmax()))

    assert pick("", ["Z", "x", "M"]) == "M"            # no z or x in the text
    assert pick("Marie Curie", ["x", '"']) == '"'      # a piece of the text: it may close
    assert pick("Tim", ["x", "Z"]) == "x"              # nothing can fit: the model's own choice
    assert pick("pa", ['"', "x"]) == '"'               # any case: "Pa" is in the text (Paris)
    assert pick("", ['"', "M"]) == "M"                 # an empty name cannot be closed
    # outside an entity's text the model writes freely
    scores = torch.randn(1, len(tok))
    after = tok('Marie", "label": "', add_special_tokens=False, return_tensors="pt")["input_ids"]
    assert torch.equal(proc(after, scores.clone()), scores)
