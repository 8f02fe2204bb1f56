"""How the Pre-training tab's pre-filled examples were chosen, measured with the packaged models.

1. What the model predicts: for each candidate text, the surprisal (−ln p, summed over the
   tokens of a word, a character's byte tokens included) of a predictable word and of a
   surprising one. The example must show the difference clearly (ratio well above 1): SmolLM2
   reads little Chinese, and the first Chinese example (柏林 vs 香蕉) did not.
2. Embedding space: for each sentence of the English and Chinese example sets, is its nearest
   neighbour (cosine of MiniLM's mean-pooled vectors) a sentence of the same topic? Also the
   share of tokens MiniLM cannot spell ([UNK]), which the tab reports.
"""
from __future__ import annotations

from bench.common import manager, save, table

# (text, predictable word, surprising word); the first of each language is the tab's default
SURPRISAL_CANDIDATES = [
    ("en", "The capital of France is Paris. The capital of Germany is Berlin. "
           "The capital of Italy is a banana.", "Berlin", "banana"),
    ("zh", "中国的首都是北京。日本的首都是东京。英国的首都是香蕉。", "东京", "香蕉"),
    ("zh", "法国的首都是巴黎。德国的首都是柏林。意大利的首都是香蕉。", "柏林", "香蕉"),
    ("zh", "我喜欢吃苹果。我也喜欢吃香蕉。我还喜欢吃石头。", "香蕉", "石头"),
    ("zh", "北京是中国的首都。东京是日本的首都。香蕉是英国的首都。", "东京", "香蕉"),
    ("zh", "猫喜欢吃鱼。狗喜欢吃骨头。兔子喜欢吃汽车。", "骨头", "汽车"),
]


def word_surprisal(result, word: str) -> float:
    """Summed surprisal of the last occurrence of `word` (pieces that are the first bytes of a
    character count with that character)."""
    from models.runners.token_text import PARTIAL
    text, spans, pending = "", [], 0.0
    for tok, s in zip(result.tokens, result.surprisal):
        s = s or 0.0
        if tok == PARTIAL:
            pending += s
            continue
        spans.append((len(text), len(text) + len(tok), s + pending))
        text, pending = text + tok, 0.0
    i = text.rindex(word)
    return sum(s for a, b, s in spans if a < i + len(word) and b > i)


def bench_surprisal(mgr) -> list[dict]:
    from models.runners.surprisal import token_surprisal
    rows = []
    with mgr.use("smollm2") as lm:
        for lang, text, expected, surprising in SURPRISAL_CANDIDATES:
            res = token_surprisal(lm, text)
            a, b = word_surprisal(res, expected), word_surprisal(res, surprising)
            rows.append({"lang": lang, "text": text[:28] + "…", "expected": expected,
                         "its nats": a, "surprising": surprising, "its nats (surprising)": b,
                         "ratio": b / max(a, 1e-3), "perplexity": res.perplexity})
    return rows


def bench_neighbours(mgr) -> list[dict]:
    from models.runners import embeddings as emb
    rows = []
    with mgr.use("minilm") as lm:
        for lang in ("en", "zh"):
            res = emb.analyse(lm, emb.parse_sentences(emb.example_text(lang)))
            right = sum(emb.nearest(res, res.vectors[i], k=1, exclude=i)[0].label == res.labels[i]
                        for i in range(len(res.sentences)))
            first = emb.nearest(res, res.vectors[0], k=1, exclude=0)[0]
            rows.append({"example set": lang, "sentences": len(res.sentences),
                         "nearest has the same topic": f"{right}/{len(res.sentences)}",
                         "first sentence's neighbour": first.sentence,
                         "[UNK] share": res.unk_share})
    return rows


def main() -> None:
    mgr = manager()
    surprisal = bench_surprisal(mgr)
    table(surprisal)
    print()
    neighbours = bench_neighbours(mgr)
    table(neighbours)
    save("pretrain_examples", surprisal, neighbours=neighbours)


if __name__ == "__main__":
    main()
