"""User-visible strings of the Fine-tune tab ("ft."): key -> (English, Chinese). Error codes
raised by models/finetune*.py have their Chinese text under "err.<code>"; data and training
warnings under "notice.<code>" (English comes from the message itself)."""

STRINGS: dict[str, tuple[str, str]] = {
    "ft.tab": ("Fine-tune", "微调"),
    "ft.intro": (
        "**Fine-tuning** starts from a model that already learned language from a huge amount of "
        "text (pre-training) and adjusts its weights θ a little on *your* labelled examples. A new, "
        "small **classifier head** turns the model's summary of a sentence into one probability "
        "per class, p(y | x; θ). Training makes the right class more likely by minimising the "
        "loss **L = −Σᵢ log p(yᵢ | xᵢ; θ)** (cross-entropy): batch after batch, compute the loss, "
        "its gradient, take a small step downhill, reset the gradient. Part of the data is kept "
        "aside (**validation**) to check that the model learned the task and did not just memorise.",
        "**微调**从一个已经通过海量文本学会语言的模型（预训练）出发，用*你自己的*带标签样本把它的权重 θ 稍作调整。"
        "一个新的小**分类头**把模型对句子的概括变成每个类别的概率 p(y | x; θ)。训练的目标是让正确类别的概率更高，"
        "也就是最小化损失 **L = −Σᵢ log p(yᵢ | xᵢ; θ)**（交叉熵）：一批接一批地计算损失和梯度，沿着下坡方向迈一小步，"
        "再把梯度清零。另有一部分数据留作**验证集**，用来检查模型是真的学会了任务，而不是死记硬背。"),
    "ft.sub.classify": ("Classify sentences", "句子分类"),
    "ft.h_data": ("### 1 · Data", "### 1 · 数据"),
    "ft.upload": ("Your labelled data: CSV, TSV, JSON, JSONL, Parquet or Excel (max 50 MB)",
                  "带标签的数据：CSV、TSV、JSON、JSONL、Parquet 或 Excel（最大 50 MB）"),
    "ft.use_sample": ("Use the sample (176 English sentences)", "使用示例数据（176 句英文）"),
    "ft.use_sample_zh": ("Chinese sample (needs a base model that reads Chinese)",
                         "中文示例（需要能读中文的基础模型）"),
    "ft.sample_note": (
        "The sample: short English sentences about everyday things, labelled positive or "
        "negative (written for this app, CC0). It is in English because the default base model, "
        "all-MiniLM-L6-v2, has an English vocabulary: it reads most Chinese characters as [UNK] "
        "(unknown). **Chinese data needs a base model that reads Chinese**, such as "
        "bert-base-chinese or bert-base-multilingual-cased (add one in the Models tab while "
        "online). When your data is Chinese, the tab says so.",
        "示例数据：关于日常生活的英文短句，标注为正面（positive）或负面（negative）（为本应用编写，CC0 许可）。"
        "示例是英文的，因为默认的基础模型 all-MiniLM-L6-v2 的词表是英文的：大多数汉字它都只能读成 [UNK]（未知）。"
        "**中文数据需要能读中文的基础模型**，例如 bert-base-chinese 或 bert-base-multilingual-cased"
        "（联网时可在“模型”标签页添加）。如果你的数据是中文的，本页会提示你。"),
    "ft.text_col": ("Text column", "文本列"),
    "ft.label_col": ("Label column", "标签列"),
    "ft.preview": ("First rows", "前几行"),
    "ft.data_ok": ("✓ {n} usable examples in {k} classes.", "✓ 共 {n} 条可用样本，{k} 个类别。"),
    "ft.data_lengths": (
        "For {base} the texts are {p50} tokens long in the middle; 95 % have at most {p95} "
        "(the longest {max}), so **max length is set to {length}**.",
        "对 {base} 来说，文本长度的中位数是 {p50} 个词元，95% 的文本不超过 {p95} 个（最长 {max} 个），"
        "所以**最大长度设为 {length}**。"),
    "ft.counts_title": ("Examples per class", "每个类别的样本数"),
    "ft.examples": ("examples", "样本数"),
    "ft.h_setup": ("### 2 · Setup", "### 2 · 设置"),
    "ft.base": ("Base model (pre-trained encoder)", "基础模型（预训练的编码器）"),
    "ft.name": ("Name of the new model", "新模型的名称"),
    "ft.name_ph": ("e.g. my-sentiment-model (empty: a name is made up)",
                   "例如 my-sentiment-model（留空则自动命名）"),
    "ft.epochs": ("Epochs (passes over the training data)", "训练轮数（遍历训练数据的次数）"),
    "ft.lr": ("Learning rate (step size)", "学习率（每一步的步长）"),
    "ft.batch": ("Batch size", "批大小"),
    "ft.max_len": ("Max length (tokens per text)", "最大长度（每条文本的词元数）"),
    "ft.val": ("Validation share (%), split per class", "验证集比例（%），按类别分层划分"),
    "ft.seed": ("Seed (same seed = same result)", "随机种子（种子相同，结果相同）"),
    "ft.head_only": ("Train only the classifier head (faster; try learning rate 1e-3)",
                     "只训练分类头（更快；建议学习率 1e-3）"),
    "ft.code": ("How training works, step by step (and the code that runs)",
                "训练是怎样一步步进行的（以及实际运行的代码）"),
    "ft.code_note": (
        "Training repeats one small step many times. The training examples are shuffled and cut "
        "into **batches** (batch size). For each batch: (1) the model reads the texts and gives "
        "each class a probability; (2) the **loss** measures how wrong that was: −log of the "
        "probability given to the right class, averaged over the batch (when some classes are "
        "much smaller, their examples weigh more); (3) `backward()` works out, for every weight, "
        "which direction would lower the loss (the **gradient**); (4) the optimizer moves each "
        "weight a small step that way (the **learning rate** sets how big); (5) the gradients "
        "are reset to zero, because they would otherwise add up from batch to batch. One pass "
        "over all training examples is an **epoch**. After each epoch the model is checked on "
        "the validation examples it never learns from, and the best epoch's weights are kept. "
        "This is the code (models/training/finetune/loop.py; it runs on `accelerate`, so the same code works "
        "on a CPU, a GPU or several GPUs):",
        "训练就是把一个小步骤重复很多次。训练样本先被打乱，再分成一个个**批次**（批大小）。对每一批："
        "(1) 模型读入这些文本，给每个类别一个概率；(2) **损失**衡量错得有多离谱：取正确类别概率的 −log，"
        "再对这一批求平均（某些类别特别小时，它们的样本权重更大）；(3) `backward()` 算出每个权重往哪个方向变"
        "能让损失下降（**梯度**）；(4) 优化器让每个权重朝那个方向迈一小步（步子多大由**学习率**决定）；"
        "(5) 把梯度清零，否则它们会一批批累加下去。把所有训练样本过一遍叫一个**轮次**。每轮结束后，"
        "用模型从不学习的验证样本检查一次，并保留最好那一轮的权重。下面就是这段代码（models/training/finetune/loop.py；"
        "它基于 `accelerate`，同一份代码在 CPU、单个或多个 GPU 上都能运行）："),
    "ft.h_train": ("### 3 · Training", "### 3 · 训练"),
    "ft.start": ("Start fine-tuning", "开始微调"),
    "ft.stop": ("Stop (keep the best so far)", "停止（保留目前最好的结果）"),
    "ft.job_box": ("Job id (kept in this browser; paste one to follow it from another computer)",
                   "任务 ID（保存在本浏览器中；在另一台电脑上粘贴它即可继续查看）"),
    "ft.job_ph": ("finetune-…", "finetune-…"),
    "ft.attach": ("Follow this job", "查看这个任务"),
    "ft.no_job": ("No training job yet. Pick data and press Start.", "还没有训练任务。选好数据后点击“开始微调”。"),
    "ft.no_results": ("The results (accuracy, confusion matrix, the examples the model got wrong) "
                      "appear here when a training finishes.",
                      "训练结束后，这里会显示结果（准确率、混淆矩阵、模型判断错的样本）。"),
    "ft.job_id": ("Job id", "任务 ID"),
    "ft.queued": ("Waiting in the queue: {pos} job(s) before this one run first (one training per device).",
                  "正在排队：前面还有 {pos} 个任务（每台设备一次只训练一个）。"),
    "ft.running": ("Training: {msg}", "训练中：{msg}"),
    "ft.step_line": ("epoch {epoch} · step {step}/{total} · loss {loss:.3f}",
                     "第 {epoch} 轮 · 第 {step}/{total} 步 · 损失 {loss:.3f}"),
    "ft.loading": ("loading the base model and reading the data", "正在加载基础模型并读取数据"),
    "ft.eta": ("about {eta} left", "大约还需 {eta}"),
    "ft.done": ("Finished. The model is saved and listed in the Models tab.",
                "完成。模型已保存，并已列在“模型”标签页中。"),
    "ft.cancelled": ("Cancelled before it learned anything; nothing was saved.",
                     "在学到任何东西之前就取消了，没有保存模型。"),
    "ft.stopped_saved": ("Stopped. The best weights so far are saved.", "已停止。目前为止最好的权重已经保存。"),
    "ft.failed": ("Failed: {error}", "失败：{error}"),
    "ft.stop_sent": ("Stopping after the current step; the best weights so far will be saved.",
                     "将在当前这一步之后停止，并保存目前为止最好的权重。"),
    "ft.already_finished": ("That job has already finished.", "这个任务已经结束了。"),
    "ft.loss_title": ("Loss (lower is better)", "损失（越低越好）"),
    "ft.train_loss": ("training loss (each step)", "训练损失（每一步）"),
    "ft.val_loss": ("validation loss (each epoch)", "验证损失（每一轮）"),
    "ft.step": ("step", "步数"),
    "ft.loss": ("loss", "损失"),
    "ft.epoch_table": ("Validation after each epoch (* = evaluated at a Stop)",
                       "每轮结束后的验证结果（* = 在停止时评估）"),
    "ft.epoch_cols": ("Epoch|Train loss|Val loss|Accuracy|Macro-F1",
                      "轮次|训练损失|验证损失|准确率|宏平均 F1"),
    "ft.h_results": ("### 4 · Results", "### 4 · 结果"),
    "ft.summary": (
        "**Accuracy {acc:.1f}%** on the validation set (always guessing the biggest class: "
        "{base:.1f}%) · macro-F1 {f1:.3f} · best epoch {epoch} · {secs:.0f} s of training, "
        "{eps:.1f} examples/s · saved as **{name}** (`{key}`): pick it in the Attention tab to "
        "compare its attention with the base model's.",
        "验证集**准确率 {acc:.1f}%**（总是猜最大的类别：{base:.1f}%）· 宏平均 F1 {f1:.3f} · 最佳轮次 {epoch} · "
        "训练用时 {secs:.0f} 秒，每秒 {eps:.1f} 条样本 · 已保存为 **{name}**（`{key}`）：在“注意力”标签页中选择它，"
        "就能把它的注意力和基础模型的对比。"),
    "ft.summary_stopped": ("(Stopped early.)", "（提前停止。）"),
    "ft.cm_title": ("Confusion matrix (rows: true class, columns: predicted)",
                    "混淆矩阵（行：真实类别，列：预测类别）"),
    "ft.cm_hover": ("true %{y}, predicted %{x}: %{z}", "真实 %{y}，预测 %{x}：%{z}"),
    "ft.predicted": ("predicted", "预测"),
    "ft.actual": ("true", "真实"),
    "ft.per_class": ("Per class", "各类别指标"),
    "ft.class_cols": ("Class|Precision|Recall|F1|Support", "类别|精确率|召回率|F1|样本数"),
    "ft.mistakes": ("Validation examples the model got wrong (most confident first)",
                    "模型判断错误的验证样本（最自信的错误排在前面）"),
    "ft.mistake_cols": ("Text|True|Predicted|Confidence", "文本|真实|预测|置信度"),
    "ft.h_compare": ("#### Before and after: the same sentence, the base model with its untrained "
                     "head vs the fine-tuned model",
                     "#### 微调前后对比：同一句话，带着未训练分类头的基础模型 vs 微调后的模型"),
    "ft.tuned": ("Fine-tuned model", "微调后的模型"),
    "ft.probe": ("Sentence", "句子（默认模型读得懂英文）"),
    # the default model reads English (see ft.sample_note), so the probe is English in both
    "ft.probe_value": ("The staff were friendly and the food was great.",
                       "The staff were friendly and the food was great."),
    "ft.compare": ("Compare", "对比"),
    "ft.before": ("Before fine-tuning", "微调前"),
    "ft.after": ("After fine-tuning", "微调后"),
    "ft.truncated": ("The sentence was longer than the model reads; only its beginning was used.",
                     "这句话超出了模型能读的长度，只用了开头部分。"),
    "ft.no_before": ("This model was not fine-tuned in this app, so there is no 'before' to show.",
                     "这个模型不是在本应用中微调的，所以无法显示“微调前”。"),
    "ft.h_keep": ("### 5 · Keep it", "### 5 · 保存"),
    "ft.zip": ("Download the model as a zip", "下载模型（zip）"),
    "ft.zip_file": ("Model folder (safetensors, tokenizer, model card)",
                    "模型文件夹（safetensors 权重、分词器、模型卡）"),
    # ---- warnings about the data and the training run ----
    "notice.encoding": ("{name} is not UTF-8; it was read as {encoding}. If the text looks "
                        "wrong, save the file as UTF-8.",
                        "{name} 不是 UTF-8 编码，已按 {encoding} 读取。如果文字显示不对，请把文件"
                        "另存为 UTF-8。"),
    "notice.empty_rows": ("{n} rows with an empty text or label were left out.",
                          "有 {n} 行的文本或标签为空，已跳过。"),
    "notice.numeric_labels": ("The labels are numbers; each number is treated as a class name "
                              "(not as an amount).",
                              "标签是数字；每个数字都被当作一个类别名称（而不是数量）。"),
    "notice.cut_texts": ("{n} texts were longer than {chars} characters and were cut; the model "
                         "reads only the first tokens anyway.",
                         "有 {n} 条文本超过 {chars} 个字符，已被截断；模型本来也只读取开头的若干"
                         "词元。"),
    "notice.long_texts": ("{n} texts are longer than {chars} characters; only their first tokens "
                          "(up to the max length) are used.",
                          "有 {n} 条文本超过 {chars} 个字符；只有开头（最大长度以内）的词元会被使"
                          "用。"),
    "notice.duplicates": ("{n} duplicate rows were removed, so the same sentence cannot be in "
                          "both training and validation.",
                          "删除了 {n} 行重复数据，这样同一句话不会同时出现在训练集和验证集中。"),
    "notice.conflicts": ("{n} rows share a text with a different label; the model cannot get all "
                         "of them right.",
                         "有 {n} 行文本相同但标签不同；模型不可能把它们全部判断正确。"),
    "notice.sampled": ("The file has {n} usable rows; a random {max} are used so that training "
                       "finishes in reasonable time.",
                       "文件中有 {n} 行可用数据；为了让训练在合理时间内完成，随机选取了其中 "
                       "{max} 行。"),
    "notice.imbalance": ("The classes are unbalanced: {big!r} has {nbig} examples, {small!r} "
                         "only {nsmall}. Accuracy can look good while the small class is always "
                         "wrong; watch macro-F1.",
                         "类别不平衡：{big!r} 有 {nbig} 个样本，{small!r} 只有 {nsmall} 个。即使"
                         "小类别总被判错，准确率也可能很好看；请留意宏平均 F1。"),
    "notice.truncated": ("{n} texts are longer than {max_length} tokens; the model only sees "
                         "their beginning. Raise Max length if the end matters.",
                         "有 {n} 条文本超过 {max_length} 个词元，模型只能看到开头。如果结尾重要，"
                         "请调大“最大长度”。"),
    "notice.chinese_base": ("Most of these texts are Chinese ({chinese}), and {base} reads "
                            "{share} of their tokens as [UNK]: its vocabulary has few Chinese "
                            "characters, so it cannot learn from them. For Chinese data pick a "
                            "base model that reads Chinese, such as {bases} (add one in the "
                            "Models tab while online).",
                            "这些文本大多是中文（{chinese}），而 {base} 把其中 {share} 的词元读成"
                            " [UNK]：它的词表里汉字很少，所以学不到东西。中文数据请选择能读中文的"
                            "基础模型，例如 {bases}（联网时可在“模型”标签页添加）。"),
    "notice.class_weights": ("The biggest class has {ratio} times as many examples as the "
                             "smallest, so training weighs each class by the inverse of its size "
                             "(class weights): the small classes count as much as the big ones.",
                             "最大的类别的样本数是最小类别的 {ratio} 倍，所以训练时按类别大小的倒"
                             "数给每个类别加权（类别权重）：小类别和大类别同样重要。"),
    "notice.unknown_tokens": ("{share} of the tokens are [UNK]: the base model's vocabulary does "
                              "not know them (for example Chinese characters in an English "
                              "model). The model cannot learn from what it cannot see.",
                              "{share} 的词元是 [UNK]：基础模型的词表里没有它们（比如英文模型遇到"
                              "中文字）。模型看不见的东西，它也学不会。"),
    # ---- errors (English comes from the exception) ----
    "err.ft_bad_format": ("{name}: files ending in {suffix} cannot be read. Use one of: "
                          "{formats}.",
                          "{name}：无法读取以 {suffix} 结尾的文件。请使用以下格式之一：{formats}"
                          "。"),
    "err.ft_no_file": ("The file {name} cannot be found: upload it again (or check its path).",
                       "找不到文件 {name}：请重新上传（或检查它的路径）。"),
    "err.ft_empty_file": ("{name} is empty or has no rows. Pick a file with a header row and at "
                          "least a few labelled rows.",
                          "{name} 是空的或没有数据行。请选择一个有表头和若干带标签数据行的文件。"),
    "err.ft_too_big": ("{name} is {mb} MB; the limit is {limit} MB. Use fewer rows.",
                       "{name} 有 {mb} MB，上限是 {limit} MB。请减少行数。"),
    "err.ft_not_utf8": ("{name} is not UTF-8 text and its encoding could not be detected. Save "
                        "it as UTF-8 (Excel: 'CSV UTF-8') and upload it again.",
                        "{name} 不是 UTF-8 文本，也无法识别它的编码。请另存为 UTF-8（Excel 中选"
                        "“CSV UTF-8”）后重新上传。"),
    "err.ft_unreadable": ("{name} could not be read as {fmt}. Check that the file really is in "
                          "that format.",
                          "{name} 无法按 {fmt} 格式读取。请确认文件确实是这种格式。"),
    "err.ft_one_column": ("The file has one column ({column}); it needs a text column and a "
                          "label column.",
                          "文件只有一列（{column}）；需要一列文本和一列标签。"),
    "err.ft_no_column": ("There is no column {column!r}. The columns are: {columns}.",
                         "没有名为 {column!r} 的列。现有的列：{columns}。"),
    "err.ft_same_column": ("The text and the label must be different columns.",
                           "文本列和标签列必须是不同的列。"),
    "err.ft_no_rows": ("Every row has an empty text or label (columns {text!r} / {label!r}). "
                       "Pick other columns.",
                       "所有行的文本或标签都是空的（{text!r} / {label!r} 列）。请选择其他列。"),
    "err.ft_one_class": ("Every row has the label {label!r}. A classifier needs at least two "
                         "classes to tell apart.",
                         "每一行的标签都是 {label!r}。分类器至少需要两个类别才能区分。"),
    "err.ft_many_classes": ("The label column {column!r} has {n} different values; at most {max} "
                            "classes are supported. Is it really the label column?",
                            "标签列 {column!r} 有 {n} 个不同的值；最多支持 {max} 个类别。它真的是"
                            "标签列吗？"),
    "err.ft_tiny_class": ("These classes have only one example: {classes}. Each class needs at "
                          "least 2 (one to learn from, one to check), better 20 or more. Add "
                          "examples or remove those rows.",
                          "这些类别只有一个样本：{classes}。每个类别至少需要 2 个（一个用来学，一"
                          "个用来检验），最好 20 个以上。请补充样本或删除这些行。"),
    "err.ft_bad_setting": ("{name} = {value} is out of range; use a value from {low} to {high}.",
                           "{name} = {value} 超出范围，请使用 {low} 到 {high} 之间的值。"),
    "err.ft_not_number": ("{name} = {value!r} is not a number.",
                          "{name} = {value!r} 不是一个数字。"),
    "err.ft_out_exists": ("{path} already exists and is not empty. Pick a new folder.",
                          "{path} 已存在且不是空的，请换一个文件夹。"),
    "err.ft_no_model": ("Only a model fine-tuned here can be downloaded, and this one was not. "
                        "Train one first, then pick it in Fine-tuned model.",
                        "只有在这里微调的模型才能下载，而这个不是。请先训练一个，再在“微调后的模"
                        "型”中选择它。"),
    "err.ft_not_base": ("{name} cannot be fine-tuned here; pick an encoder (such as "
                        "all-MiniLM-L6-v2).",
                        "{name} 不能在这里微调；请选择一个编码器模型（例如 all-MiniLM-L6-v2）。"),
    "err.ft_not_classifier": ("{name} has no classification head, so it cannot give class "
                              "probabilities. Fine-tune it first, then pick the fine-tuned model.",
                              "{name} 没有分类头，无法给出类别概率。请先微调它，再选择微调后的模"
                              "型。"),
    "err.ft_no_before": ("{name} was not fine-tuned in this app, so what it was like before "
                         "fine-tuning is unknown.",
                         "{name} 不是在本应用中微调的，所以不知道它微调前的样子。"),
    "err.ft_no_data": ("Upload a file or click Use the sample first.",
                       "请先上传文件，或点击“使用示例数据”。"),
    "err.ft_pick_model": ("Pick a fine-tuned model first (train one above).",
                          "请先选择一个微调后的模型（在上面训练一个）。"),
    "err.ft_no_job": ("There is no training job to stop yet. Start one first.",
                      "还没有可以停止的训练任务。请先开始一个。"),
    # models/core/jobs.py: any background job (fine-tuning, pre-training) that fails with a bug
    "err.job_bug": ("The job stopped because of a problem inside the app ({what}), not because "
                    "of your data or settings. Press Start again; if it fails the same way, try "
                    "other settings (a smaller batch size or max length) and report the problem "
                    "with this job's id.",
                    "任务因为应用内部的问题（{what}）而停止，不是你的数据或设置造成的。请再点一次"
                    "“开始”；如果还是同样失败，换一组设置（更小的批大小或最大长度）再试，并附上这"
                    "个任务的 ID 报告问题。"),
}
