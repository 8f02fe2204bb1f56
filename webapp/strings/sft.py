"""User-visible strings of the "Teach the language model" sub-tab of Fine-tune ("sft."): key ->
(English, Chinese). Errors raised by models/training/sft/ have their Chinese text under
"err.<code>", its notices under "notice.<code>"."""

STRINGS: dict[str, tuple[str, str]] = {
    "sft.tab": ("Teach the language model", "教语言模型新本领"),
    "sft.intro": (
        "Here the **language model itself** learns a new behaviour from examples of prompts and "
        "answers (instruction tuning). Instead of changing all its weights, **LoRA** adds a small "
        "trainable detour to some weight matrices and trains only that: the model stays as it "
        "was, plus a few new numbers. The loss is the usual next-token loss, −Σ log p(token | "
        "what came before), counted **only on the answer's tokens**: the question is given, not "
        "something to learn.",
        "在这里，**语言模型本身**通过“提示—回答”的例子学会一种新的行为（指令微调）。**LoRA** 不改动模型的全部权重，"
        "而是给一些权重矩阵加上一条可训练的小“旁路”，只训练它：原模型保持不变，只多了少量新参数。"
        "损失就是通常的下一个词元损失 −Σ log p(词元 | 前文)，但**只计算回答部分的词元**：问题是给定的，不需要学。"),
    "sft.h_data": ("### 1 · Prompts and answers", "### 1 · 提示与回答"),
    "sft.upload": ("Your pairs: CSV (columns prompt, response) or JSONL (prompt/response, or chat "
                   "\"messages\")", "你的数据：CSV（列名 prompt、response）或 JSONL（prompt/response，或对话 \"messages\"）"),
    "sft.use_sample": ("Use the sample (231 pairs: answer in JSON)", "使用示例数据（231 对：用 JSON 回答）"),
    "sft.sample_note": (
        "The sample teaches one fixed answer format: every short question is answered with one "
        "line of JSON, `{\"topic\": \"…\", \"answer\": \"…\"}`, and nothing else. SmolLM2 never does "
        "this by itself (it writes a sentence), and a program can check it. The questions are "
        "everyday facts in English (the small model reads English best), written for this app "
        "(CC0); the held-out prompts below were never trained on.",
        "示例数据教模型一种固定的回答格式：每个简短的问题都只用一行 JSON 回答，`{\"topic\": \"…\", \"answer\": \"…\"}`，"
        "不写别的。SmolLM2 自己从不这样回答（它会写一句话），而程序可以检查格式是否正确。问题是英文的日常常识"
        "（这个小模型最擅长读英文），为本应用编写（CC0）；下面的“留出提示”从未参与训练。"),
    "sft.heldout": ("Held-out prompts (one per line): answered by the base and the tuned model as "
                    "training goes", "留出提示（每行一个）：训练过程中由原模型和微调后的模型分别回答"),
    "sft.data_ok": ("✓ {n} conversations from {name} ({kind}).", "✓ 从 {name} 读到 {n} 段对话（{kind}）。"),
    "sft.kind.pairs": ("prompt and answer pairs", "提示—回答对"),
    "sft.kind.chat": ("chat messages", "对话消息"),
    "sft.preview": ("First pairs", "前几对"),
    "sft.preview_cols": ("prompt|answer", "提示|回答"),
    "sft.mask_title": ("<b>Which tokens count in the loss</b> (first pair, as the model reads it with "
                       "its chat template): <span class=\"sft-on\">green</span> tokens are the "
                       "answer and count; grey ones are the template and the question and are "
                       "masked (label −100). {on} of {all} tokens count.",
                       "<b>哪些词元计入损失</b>（第一对，按模型读到的样子，套上了对话模板）："
                       "<span class=\"sft-on\">绿色</span>的是回答，计入损失；灰色的是模板和问题，被屏蔽（标签 −100）。"
                       "{all} 个词元中有 {on} 个计入。"),
    "sft.h_setup": ("### 2 · LoRA settings", "### 2 · LoRA 设置"),
    "sft.base": ("Base model (a language model)", "基础模型（语言模型）"),
    "sft.name": ("Name of the new model", "新模型的名称"),
    "sft.name_ph": ("e.g. json-answers (empty: a name is made up)", "例如 json-answers（留空则自动命名）"),
    "sft.rank": ("Rank r (width of the detour)", "秩 r（旁路的宽度）"),
    "sft.alpha": ("Alpha (strength: the detour is scaled by alpha / r)", "Alpha（强度：旁路乘以 alpha / r）"),
    "sft.dropout": ("Dropout on the detour", "旁路上的 dropout"),
    "sft.targets": ("Weight matrices that get a detour", "加旁路的权重矩阵"),
    "sft.lora_explain": (
        "**In plain words.** A weight matrix W turns a vector of one size into another. LoRA keeps "
        "W frozen and adds B·A next to it: A squeezes the vector down to **r** numbers, B widens "
        "it back. Only A and B learn, so a small **rank r** means few new numbers (faster, less "
        "memory, less able to learn much); **alpha** sets how strongly the detour counts "
        "(alpha / r); **dropout** randomly switches off some of its inputs while training so it "
        "does not just memorise. **q_proj, k_proj, v_proj, o_proj** are the attention's query, "
        "key, value and output matrices; **gate_proj, up_proj, down_proj** are the feed-forward "
        "(MLP) part. B starts at zero, so before the first step the model is exactly the base.",
        "**通俗地说：** 权重矩阵 W 把一个向量变成另一个向量。LoRA 冻结 W，在旁边加上 B·A：A 把向量压缩成 **r** 个数，"
        "B 再把它还原成原来的宽度。只有 A 和 B 在学习，所以**秩 r** 越小，新参数越少（更快、更省内存，但能学的也更少）；"
        "**alpha** 决定旁路的作用有多强（alpha / r）；**dropout** 在训练时随机关掉一部分输入，避免死记硬背。"
        "**q_proj、k_proj、v_proj、o_proj** 是注意力的查询、键、值和输出矩阵；**gate_proj、up_proj、down_proj** "
        "是前馈网络（MLP）部分。B 从零开始，所以第一步之前模型和原模型完全一样。"),
    "sft.params": ("**Trainable: {lora} of {total} parameters ({share})** — the base's weights stay frozen.",
                   "**可训练参数：{total} 个中的 {lora} 个（{share}）**——原模型的权重保持冻结。"),
    "sft.params_unknown": ("The number of parameters is shown once the base model's files are on "
                           "this computer.", "基础模型的文件在这台电脑上之后，才能显示参数个数。"),
    "sft.lr": ("Learning rate", "学习率"),
    "sft.steps": ("Steps (optimizer updates)", "步数（优化器更新次数）"),
    "sft.batch": ("Batch size (pairs per step)", "批大小（每步的对数）"),
    "sft.max_len": ("Max length (tokens per conversation)", "最大长度（每段对话的词元数）"),
    "sft.every": ("Answer the held-out prompts every N steps", "每 N 步回答一次留出提示"),
    "sft.keep": ("Keep the result as", "结果保存为"),
    "sft.keep.adapter": ("a separate adapter (a few MB, needs the base)", "单独的适配器（几 MB，需要原模型）"),
    "sft.keep.merge": ("a merged model (the detour added into W)", "合并后的模型（把旁路加进 W）"),
    "sft.h_train": ("### 3 · Training", "### 3 · 训练"),
    "sft.start": ("Start teaching", "开始训练"),
    "sft.stop": ("Stop (keeps the adapter so far)", "停止（保留目前的适配器）"),
    "sft.job_box": ("Job id (paste one to follow a running job)", "任务 ID（粘贴一个即可跟踪正在运行的任务）"),
    "sft.job_ph": ("sft-…", "sft-…"),
    "sft.attach": ("Follow this job", "跟踪这个任务"),
    "sft.no_job": ("No training yet. Pick data, then press Start.", "还没有训练。选好数据后按“开始训练”。"),
    "sft.queued": ("Waiting: {pos} job(s) before this one.", "排队中：前面还有 {pos} 个任务。"),
    "sft.loading": ("loading the model…", "正在加载模型…"),
    "sft.step_line": ("step {step}/{total} · loss {loss:.3f}", "第 {step}/{total} 步 · 损失 {loss:.3f}"),
    "sft.running": ("Training: {msg}", "训练中：{msg}"),
    "sft.eta": ("about {eta} left", "大约还剩 {eta}"),
    "sft.done": ("Finished: the model is saved and registered.", "完成：模型已保存并登记。"),
    "sft.stopped_saved": ("Stopped: the adapter trained so far is saved and registered.",
                          "已停止：目前训练好的适配器已保存并登记。"),
    "sft.cancelled": ("Cancelled before it started.", "在开始前已取消。"),
    "sft.failed": ("Failed: {error}", "失败：{error}"),
    "sft.job_id": ("Job id", "任务 ID"),
    "sft.stop_sent": ("Stopping after the current step; the adapter so far is kept.",
                      "将在当前这一步之后停止；目前的适配器会被保留。"),
    "sft.already_finished": ("This job has already finished.", "这个任务已经结束了。"),
    "sft.loss_title": ("Loss on the answer tokens", "回答词元上的损失"),
    "sft.step": ("step", "步"),
    "sft.loss": ("loss", "损失"),
    "sft.side_title": ("**Held-out prompts, after step {step}** — the base model beside the tuned "
                       "one (greedy).", "**留出提示，第 {step} 步之后**——原模型和微调后的模型并排（贪心解码）。"),
    "sft.side_share": ("Following the taught format: base **{base}**, tuned **{tuned}** of {n} prompts.",
                       "符合所教格式的比例：原模型 **{base}**，微调后 **{tuned}**（共 {n} 个提示）。"),
    "sft.side_cols": ("prompt|base model|tuned model", "提示|原模型|微调后的模型"),
    "sft.h_keep": ("### 4 · Try it and keep it", "### 4 · 试一试，保存下来"),
    "sft.no_results": ("When training ends, the tuned model is saved, registered for Generate, "
                       "Attention and \"Why this token?\", and can be tried here.",
                       "训练结束后，微调后的模型会被保存并登记，可在“生成”“注意力”“为什么是这个词元？”中使用，也可以在这里试用。"),
    "sft.result": ("**Saved as `{key}`** ({kind}) after {steps} steps in {secs:.0f} s "
                   "({tps:.0f} tokens/s). Pick it in Generate (Chat mode) to use it anywhere.",
                   "**已保存为 `{key}`**（{kind}），共 {steps} 步，用时 {secs:.0f} 秒（每秒 {tps:.0f} 个词元）。"
                   "在“生成”标签页（对话模式）选择它即可使用。"),
    "sft.kind_adapter": ("adapter kept apart", "单独的适配器"),
    "sft.kind_merged": ("merged", "已合并"),
    "sft.tuned": ("Tuned model", "微调后的模型"),
    "sft.try": ("Ask both models", "同时问两个模型"),
    "sft.try_prompt": ("Any prompt", "任意提示"),
    "sft.try_default": ("What is the capital of Portugal?", "What is the capital of Portugal?"),
    "sft.base_answer": ("Base model", "原模型"),
    "sft.tuned_answer": ("Tuned model", "微调后的模型"),
    "sft.zip": ("Download as zip", "下载 zip"),
    "sft.zip_file": ("Zip", "Zip 文件"),
    "sft.follows_yes": ("✓ format", "✓ 格式"),
    "sft.follows_no": ("✗ format", "✗ 格式"),
    # ---- errors (English comes from the exception's own message) ----
    "err.sft_bad_format": ("{name}: files ending in {suffix} cannot be read here. Use a CSV file "
                           "with the columns prompt and response, or a JSONL file (one JSON "
                           "object a line).",
                           "{name}：不能读取以 {suffix} 结尾的文件。请使用带 prompt 和 response "
                           "列的 CSV 文件，或 JSONL 文件（每行一个 JSON 对象）。"),
    "err.sft_no_file": ("The file {name} cannot be found: upload it again (or check its path).",
                        "找不到文件 {name}：请重新上传（或检查它的路径）。"),
    "err.sft_too_big": ("{name} is {mb} MB; the limit is {limit} MB.",
                        "{name} 有 {mb} MB；上限是 {limit} MB。"),
    "err.sft_not_utf8": ("{name} is not UTF-8 text (byte {at} cannot be read). Save it as UTF-8 "
                         "(Excel: 'CSV UTF-8') and upload it again.",
                         "{name} 不是 UTF-8 文本（第 {at} 个字节无法读取）。请另存为 UTF-8（Excel"
                         "：“CSV UTF-8”）后重新上传。"),
    "err.sft_empty_file": ("{name} is empty. It needs prompt and answer pairs.",
                           "{name} 是空的。它需要“提示—回答”对。"),
    "err.sft_no_columns": ("{name} has no {what} column. Name the columns prompt and response "
                           "(found: {found}).",
                           "{name} 没有{what}列。请把列命名为 prompt 和 response（找到的列："
                           "{found}）。"),
    "err.sft_unreadable": ("{name} could not be read as CSV (near line {line}). Check the file's "
                           "format.",
                           "{name} 无法按 CSV 读取（第 {line} 行附近）。请检查文件格式。"),
    "err.sft_bad_json": ("Line {line} of {name} is not a JSON object. JSONL needs one object a "
                         "line, such as {{\"prompt\": \"...\", \"response\": \"...\"}}.",
                         "{name} 的第 {line} 行不是 JSON 对象。JSONL 需要每行一个对象，例如 "
                         "{{\"prompt\": \"…\", \"response\": \"…\"}}。"),
    "err.sft_bad_chat": ("Line {line} of {name} has no list of messages.",
                         "{name} 的第 {line} 行没有消息列表（messages）。"),
    "err.sft_bad_role": ("Line {line} of {name}: {role!r} is not a role; use system, user or "
                         "assistant.",
                         "{name} 的第 {line} 行：{role} 不是有效的角色；请使用 system、user 或 "
                         "assistant。"),
    "err.sft_role_order": ("Line {line} of {name}: the roles are {roles}. A conversation is an "
                           "optional system message, then user and assistant taking turns, "
                           "ending with the assistant.",
                           "{name} 的第 {line} 行：角色顺序是 {roles}。一段对话应当是：可选的 "
                           "system 消息，然后 user 和 assistant 轮流发言，最后以 assistant 结束。"),
    "err.sft_no_pairs": ("No row of {name} has both a prompt and an answer.",
                         "{name} 中没有任何一行同时有提示和回答。"),
    "err.sft_bad_setting": ("{name} = {value} is outside {low}…{high}.",
                            "{name} = {value} 超出了 {low}…{high} 的范围。"),
    "err.sft_no_targets": ("Pick at least one kind of weight matrix for LoRA (for example q_proj "
                           "and v_proj).",
                           "请至少选择一种加 LoRA 旁路的权重矩阵（例如 q_proj 和 v_proj）。"),
    "err.sft_bad_targets": ("This model has no {missing} layers; it has {have}.",
                            "这个模型没有 {missing} 层；它有 {have}。"),
    "err.sft_too_long": ("Every conversation is longer than the maximum length of {max_length} "
                         "tokens (the longest has {longest}). Raise Max length or use shorter "
                         "answers.",
                         "每段对话都超过了最大长度 {max_length} 个词元（最长的有 {longest} 个）。"
                         "请调大“最大长度”或使用更短的回答。"),
    "err.sft_not_causal": ("{name} is not a language model that writes text one token at a time "
                           "(a causal LM), so it cannot be taught answers here. Pick SmolLM2 or "
                           "another decoder.",
                           "{name} 不是逐个词元写文本的语言模型（因果语言模型），不能在这里教它回"
                           "答。请选择 SmolLM2 或其他解码器模型。"),
    "err.sft_out_exists": ("{path} already exists and is not empty. Pick a new folder.",
                           "{path} 已存在且不为空。请换一个新文件夹。"),
    "err.sft_no_model": ("Only a model taught here can be downloaded, and this one was not. "
                         "Teach one first.",
                         "只有在这里训练的模型才能下载，而这个不是。请先训练一个。"),
    "err.sft_no_data": ("Upload a file or click Use the sample first.",
                        "请先上传文件，或点击“使用示例数据”。"),
    "err.sft_no_job": ("There is no training job to stop yet. Start one first.",
                       "还没有可以停止的训练任务。请先开始一个。"),
    "err.sft_pick_model": ("Pick a model taught here first (train one above).",
                           "请先选择一个在这里训练出来的模型（先在上面训练一个）。"),
    "err.sft_not_number": ("{name} = {value!r} is not a number.",
                           "{name} = {value!r} 不是数字。"),
    "err.sft_empty_prompt": ("The prompt is empty. Type a question first.",
                             "提示是空的。请先输入一个问题。"),
    # ---- notices ----
    "notice.sft_empty_rows": ("{n} rows have an empty prompt or answer and were left out (lines {lines}).",
                              "有 {n} 行的提示或回答为空，已略去（第 {lines} 行）。"),
    "notice.sft_sampled": ("The file has {n} usable pairs; {kept} of them, picked at random, are "
                           "used so that training stays within minutes on this computer.",
                           "文件中有 {n} 对可用数据；为了让训练在这台电脑上几分钟内完成，随机选用了其中 {kept} 对。"),
    "notice.sft_cut_rows": ("{n} pairs are longer than the maximum length of {max_length} tokens and "
                            "were left out (pairs {rows}); raise 'max length' to keep them.",
                            "有 {n} 对超过了最大长度 {max_length} 个词元，已略去（第 {rows} 对）；调大“最大长度”即可保留它们。"),
}
