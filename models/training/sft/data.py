"""Instruction-tuning data: a user's prompt/answer pairs read into conversations, checked.

Three formats (README "Teach the language model (LoRA)"):
  CSV      columns prompt + response (also: instruction/question/input + answer/output/completion)
  JSONL    one object a line with the same keys
  chat     JSONL, one {"messages": [{"role": ..., "content": ...}, ...]} a line: an optional
           system message, then user and assistant taking turns, ending with the assistant

Every example becomes a list of messages (role, content). Problems the user can fix become a
`UserError` with a stable code (the tab translates it); what is worth knowing but not fatal is a
`Notice` (empty rows dropped, a big file sampled). Nothing here writes a file: uploads are read
where Gradio put them; only the base name of a file is ever shown.

The bundled sample (assets/samples/sft_json_*.jsonl, made by assets/samples/sft_make_sample.py)
teaches one answer format a program can check: `follows`.
"""
from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from models.core.errors import Notice, UserError
from models.core.files import ASSETS

FORMATS = (".csv", ".jsonl")
MAX_FILE_BYTES = 50 * 1024 * 1024     # the app's upload limit (app.py max_file_size)
MAX_ROWS = 2_000                      # more pairs are sampled: a CPU run stays in minutes
MAX_HELDOUT = 50                      # held-out prompts answered by both models every N steps
PROMPT_KEYS = ("prompt", "instruction", "question", "input", "query")
RESPONSE_KEYS = ("response", "answer", "output", "completion", "target")
ROLES = ("system", "user", "assistant")

SAMPLE_TRAIN = ASSETS / "samples" / "sft_json_train.jsonl"
SAMPLE_HELDOUT = ASSETS / "samples" / "sft_json_heldout.jsonl"
TOPICS = ("geography", "math", "language", "animals", "colours", "science")


@dataclass
class Conversations:
    """Clean examples, each a list of {"role", "content"} ending with an assistant message."""
    examples: list
    source: str = ""                  # the file's base name
    kind: str = "pairs"               # "pairs" | "chat"
    rows_read: int = 0
    notices: list = field(default_factory=list)

    @property
    def prompts(self) -> list[str]:
        """The last user message of each example (what a person would type)."""
        return [next(m["content"] for m in reversed(ex) if m["role"] == "user")
                for ex in self.examples]


def safe_name(name) -> str:
    raw = str(name or "").replace("\\", "/")
    base = PurePath(raw).name
    return base if base not in ("", ".", "..") else "data"


def _text(path: str | Path, name: str) -> str:
    path = Path(path)
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError("sft_bad_format", name=name, suffix=suffix)
    if not path.is_file():
        raise UserError("sft_no_file", name=name)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError("sft_too_big", name=name, mb=f"{size / 2**20:.0f}",
                        limit=MAX_FILE_BYTES // 2**20)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError("sft_not_utf8", name=name, at=exc.start) from None
    if not text.strip():
        raise UserError("sft_empty_file", name=name)
    return text


def _pick(keys, wanted, name: str, what: str) -> str:
    lower = {str(k).strip().lower(): k for k in keys}
    for w in wanted:
        if w in lower:
            return lower[w]
    raise UserError("sft_no_columns", name=name, what=what, found=", ".join(map(str, keys)) or "-")


def _rows(text: str, name: str) -> tuple[list[dict], str]:
    """(rows as dicts, "pairs" | "chat")."""
    if Path(name).suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        try:
            rows = [dict(r) for r in reader]
        except csv.Error as exc:
            raise UserError("sft_unreadable", name=name, line=reader.line_num) from None
        return rows, "pairs"
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise UserError("sft_bad_json", name=name, line=n) from None
        if not isinstance(row, dict):
            raise UserError("sft_bad_json", name=name, line=n)
        row["_line"] = n
        rows.append(row)
    if not rows:
        raise UserError("sft_empty_file", name=name)
    return rows, "chat" if "messages" in rows[0] else "pairs"


def _chat(row: dict, name: str) -> list[dict] | None:
    """A chat row's messages checked for order; None for a row with an empty message."""
    line = row.get("_line", "?")
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        raise UserError("sft_bad_chat", name=name, line=line)
    out = []
    for m in messages:
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ROLES:
            raise UserError("sft_bad_role", name=name, line=line, role=str(role))
        out.append({"role": role, "content": str(m.get("content") or "").strip()})
    roles = [m["role"] for m in out]
    body = roles[1:] if roles[0] == "system" else roles
    expected = ["user", "assistant"] * (len(body) // 2 + 1)
    if not body or body != expected[:len(body)] or body[-1] != "assistant":
        raise UserError("sft_role_order", name=name, line=line, roles=" → ".join(roles))
    if any(not m["content"] for m in out if m["role"] != "system"):
        return None
    return out


def read_conversations(path: str | Path, display_name: str | None = None, seed: int = 0,
                       max_rows: int = MAX_ROWS) -> Conversations:
    """Read a CSV / JSONL / chat JSONL file into checked conversations."""
    name = safe_name(display_name or Path(str(path)).name)
    rows, kind = _rows(_text(path, name), name)
    notices, examples = [], []
    empty = []
    if kind == "chat":
        for row in rows:
            conv = _chat(row, name)
            if conv is None:
                empty.append(row.get("_line", "?"))
            else:
                examples.append(conv)
    else:
        keys = [k for k in rows[0] if k != "_line"]
        p_key = _pick(keys, PROMPT_KEYS, name, "prompt")
        r_key = _pick(keys, RESPONSE_KEYS, name, "response")
        for i, row in enumerate(rows, start=2):
            prompt = str(row.get(p_key) if row.get(p_key) is not None else "").strip()
            answer = str(row.get(r_key) if row.get(r_key) is not None else "").strip()
            if not prompt or not answer:
                empty.append(row.get("_line", i))
                continue
            examples.append([{"role": "user", "content": prompt},
                             {"role": "assistant", "content": answer}])
    if empty:
        shown = ", ".join(map(str, empty[:5])) + (" …" if len(empty) > 5 else "")
        notices.append(Notice("sft_empty_rows", n=len(empty), lines=shown))
    if not examples:
        raise UserError("sft_no_pairs", name=name)
    if len(examples) > max_rows:
        rng = random.Random(seed)
        keep = sorted(rng.sample(range(len(examples)), max_rows))
        notices.append(Notice("sft_sampled", n=len(examples), kept=max_rows))
        examples = [examples[i] for i in keep]
    return Conversations(examples, name, kind, len(rows), notices)


def read_heldout(text: str | None = None, path: str | Path | None = None) -> list[str]:
    """Held-out prompts: one per line of `text`, or the "prompt" of each line of a JSONL file."""
    if path is not None:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
                if line.strip()]
        prompts = [str(r["prompt"]).strip() for r in rows]
    else:
        prompts = [p.strip() for p in str(text or "").splitlines()]
    return [p for p in prompts if p][:MAX_HELDOUT]


def sample_heldout() -> list[dict]:
    """The bundled held-out items: {"prompt", "topic", "answer"}."""
    return [json.loads(line) for line in SAMPLE_HELDOUT.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def follows(text: str) -> bool:
    """Does an output follow the sample's taught format? The whole output (spaces around it
    aside) is one JSON object with exactly the keys topic (one of TOPICS) and answer (a
    non-empty string)."""
    try:
        value = json.loads((text or "").strip())
    except ValueError:
        return False
    return (isinstance(value, dict) and set(value) == {"topic", "answer"}
            and value["topic"] in TOPICS and isinstance(value["answer"], str)
            and bool(value["answer"].strip()))


def right_answer(text: str, answer: str) -> bool:
    """A followed-format output that also gives the right answer (case and spaces aside)."""
    if not follows(text):
        return False
    def norm(s):
        return re.sub(r"\s+", " ", str(s).strip().lower())
    return norm(json.loads(text.strip())["answer"]) == norm(answer)
