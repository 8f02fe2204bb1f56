"""Analyse meaning on the real packaged models: the spaCy pipeline on the pre-filled example and
on the evaluation sample (its measured F1 holds), the bad inputs of the issue, the instruct LM's
JSON checked against the schema, and /analyze through the running app."""
from __future__ import annotations

import pytest

from bench.bench_analysis import SAMPLE, predicted, read_conll, to_text
from models.runners import analysis as an
from webapp.strings.analysis import EXAMPLE_EN

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipes():
    return an.SpacyPipelines()


def test_the_example_finds_the_person_the_place_and_the_relation(pipes):
    result = an.analyze_specialist(None, pipes, an.SPACY_KEY, EXAMPLE_EN)
    found = {(e.text, e.kind) for e in result.entities}
    assert ("Marie Curie", "person") in found and ("Paris", "place") in found
    assert an.Relation("Marie Curie", "moved to", "Paris") in result.relations
    assert all(result.text[e.start:e.end] == e.text for e in result.entities)
    assert result.notices == []


def test_spacy_f1_on_the_sample_is_what_the_readme_says(pipes):
    """README "Analyse meaning": F1 0.42 on the 60 tweets (85 people, places, organisations)."""
    items = [to_text(s) for s in read_conll(SAMPLE)]
    assert len(items) == 60
    preds = [predicted(an.analyze_specialist(None, pipes, an.SPACY_KEY, text).entities)
             for text, _ in items]
    scores = an.span_f1([g for _, g in items], preds)
    assert scores["gold"] == 85
    assert 0.39 <= scores["f1"] <= 0.45, scores


def test_bad_inputs(pipes):
    long = (EXAMPLE_EN + " ") * 700                      # over 100 000 characters
    assert len(long) > 100_000
    result = an.analyze_specialist(None, pipes, an.SPACY_KEY, long)
    assert result.notices[0].code == "an_cut" and len(result.text) <= an.MAX_CHARS
    assert sum(e.text == "Marie Curie" for e in result.entities) > 10

    html = "<p>Marie Curie moved to <b>Paris</b>.</p><script>alert('x')</script>"
    result = an.analyze_specialist(None, pipes, an.SPACY_KEY, html)
    assert result.text == html                           # analysed as the characters it is
    assert any(e.text == "Marie Curie" and e.kind == "person" for e in result.entities)

    mixed = "Marie Curie moved to Paris. 她后来获得了诺贝尔奖。"
    result = an.analyze_specialist(None, pipes, an.SPACY_KEY, mixed)
    assert [n.code for n in result.notices] == ["an_mixed"]
    assert any(e.text == "Marie Curie" for e in result.entities)

    result = an.analyze_specialist(None, pipes, an.SPACY_KEY, "玛丽·居里于1891年搬到巴黎。")
    assert "an_english_only" in [n.code for n in result.notices]


def test_instruct_lm_json_on_the_example(real_manager):
    """The instruct LM's answer on the example, greedy (the same every run; README "Analyse
    meaning" gives its validity on the 60 tweets): valid JSON that names Marie Curie as a
    person; the names kept are pieces of the text, and each name it wrote that is not in the
    text is left out and named in a notice, never shown as found."""
    import json
    from models.runners.analysis_lm import analyze_lm
    result = analyze_lm(real_manager, "smollm2", EXAMPLE_EN)
    assert EXAMPLE_EN in result.prompt
    assert result.valid and result.errors == [], (result.raw, result.errors)
    assert ("Marie Curie", "person") in {(e.text, e.kind) for e in result.entities}, result.raw
    assert all(result.text[e.start:e.end] == e.text for e in result.entities)
    written = [e["text"].strip() for e in json.loads(result.raw)["entities"]]
    in_text = [n for n in written if n.lower() in EXAMPLE_EN.lower()]     # case aside
    invented = [n for n in written if n.lower() not in EXAMPLE_EN.lower()]
    assert {e.text.lower() for e in result.entities} == {n.lower() for n in in_text}
    noticed = [n.params["names"] for n in result.notices if n.code == "an_invented"]
    assert noticed == ([", ".join(invented[:5])] if invented else []), (noticed, invented)


def test_analyze_api(app_url):
    from tests.messages import _client
    out = _client(app_url).predict(an.SPACY_KEY, EXAMPLE_EN, "", "en", api_name="/analyze")
    assert {"text": "Marie Curie", "label": "PERSON", "start": 0, "end": 11} in out["entities"]
    assert {"subject": "Marie Curie", "predicate": "moved to", "object": "Paris"} in out["relations"]
    assert out["sentiment"] is None and out["method"] == "parser"
    out = _client(app_url).predict(an.SPACY_KEY, "x " * 60_000, "", "zh", api_name="/analyze")
    assert out["notices"][0]["code"] == "an_cut" and out["notices"][0]["params"]["total"] > 100_000
    assert "只分析了前" in out["notices"][0]["message"]          # worded in the caller's language


# ---- Chinese: the packaged Baidu LAC --------------------------------------------------------
def test_the_chinese_example_finds_the_person_the_place_and_the_relation():
    from webapp.strings.analysis import EXAMPLE_ZH
    result = an.analyze_specialist(None, None, an.AUTO_KEY, EXAMPLE_ZH)
    assert result.model_key == an.LAC_KEY and result.notices == []
    found = {(e.text, e.kind) for e in result.entities}
    assert {("居里夫人", "person"), ("巴黎", "place"), ("索邦大学", "organisation"),
            ("皮埃尔·居里", "person")} <= found
    assert an.Relation("居里夫人", "移居", "巴黎") in result.relations
    assert all(result.text[e.start:e.end] == e.text for e in result.entities)
    english = an.analyze_specialist(None, None, an.LAC_KEY, "Marie Curie moved to Paris.")
    assert [n.code for n in english.notices] == ["an_chinese_only"]


def test_lac_f1_on_the_chinese_sample_is_what_the_readme_says():
    """README "Analyse meaning": Baidu LAC F1 0.79 on 100 MSRA sentences (182 entities), jieba's
    word classes 0.65 (bench/bench_analysis.py --zh)."""
    from bench.bench_analysis import SAMPLE_ZH, run_jieba, run_lac
    items = [to_text(s, "") for s in read_conll(SAMPLE_ZH)]
    assert len(items) == 100
    lac, jieba = run_lac(items), run_jieba(items)
    assert lac["gold"] == 182
    assert 0.76 <= lac["f1"] <= 0.83, lac
    assert lac["f1"] > jieba["f1"] + 0.05, (lac, jieba)
