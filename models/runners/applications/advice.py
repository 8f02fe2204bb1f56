"""Which model would do an Applications task better than the one picked, and what to expect
from the small packaged model meanwhile: the note shown next to each task's model picker (its
words, with what to expect of the small model per task, are the "notice.better_*" strings in
webapp/strings/applications.py)."""
from __future__ import annotations

from models.core.errors import Notice
from models.runners.applications.run import lang_pair
from models.core.registry import Registry

# Better models per task, best first (looked up in the registry; missing keys are skipped).
BETTER = {"summarize": ("hub:distilbart-cnn", "hub:t5-small", "hub:qwen2.5-0.5b-instruct"),
          "translate": ("hub:qwen2.5-0.5b-instruct",),
          "answer": ("hub:distilbert-squad", "hub:qwen2.5-0.5b-instruct")}


def advice(registry: Registry, task: str, key: str, source: str | None = None,
           target: str | None = None) -> Notice | None:
    """If a better model exists for the task, say which and whether it can be used now.
    source/target: the translation direction; for "answer", source is the question's language.
    Offline with only the packaged model, this is the honest note the UI shows."""
    spec = registry.get(key)
    better = list(BETTER.get(task, ()))
    if task == "translate" and source and target:
        better = [s.key for s in registry.for_task("translate")
                  if lang_pair(s) == (source, target)] + better
    if task == "answer" and source == "zh":           # the SQuAD model reads English only
        better = [k for k in better if k != "hub:distilbert-squad"]
    if spec.key in better or spec.kind == "seq2seq" or spec.head == "qa":
        return None                                    # already a specialist
    known = {s.key: s for s in registry.all()}
    for bkey in better:
        bspec = known.get(bkey)
        if bspec is None:
            continue
        state = registry.availability(bspec)
        size = f"{(registry.params(spec) or 0) / 1e6:.0f}M"
        params = {"better": bspec.name, "name": spec.name, "size": size}
        if state in ("ready", "downloadable"):
            return Notice("better_ready", **params)
        return Notice("better_offline_" + task, **params)
    return None
