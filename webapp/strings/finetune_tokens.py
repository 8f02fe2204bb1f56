"""Strings of the Fine-tune tab's "Label words" sub-tab (token classification), English and
Chinese. Keys start with "tok."; error codes raised by models/training/tokens/ are "err.tok_*"."""
from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "tok.tab": ("Label words (entities)", "给词语打标签（实体）"),
    "tok.intro": (
        "Here the model learns to give **every word** a label instead of one label per sentence: "
        "is it part of a person's name (PER), an organisation (ORG), a place (LOC), a date (DATE), "
        "or nothing (O)? This is called *named-entity recognition*. Labels follow the **IOB** "
        "scheme: `B-PER` marks the first word of a name, `I-PER` the words after it, `O` "
        "everything else. The tokenizer cuts some words into pieces (`Lovelace` → `love ##lace`); "
        "only the **first piece** of each word is scored, the other pieces are ignored by the "
        "loss. The result is measured per **entity** (with `seqeval`): an entity counts as found "
        "only when all its words and its type are right.",
        "这里模型学习给**每个词**一个标签，而不是给整句话一个标签：这个词是人名（PER）、机构（ORG）、地点（LOC）、"
        "日期（DATE）的一部分，还是都不是（O）？这叫作*命名实体识别*。标签采用 **IOB** 格式：`B-PER` 标记名字的第一个词，"
        "`I-PER` 标记后面的词，`O` 表示其他。分词器会把一些词切成几个片段（`Lovelace` → `love ##lace`）；"
        "只对每个词的**第一个片段**计分，其余片段不参与损失。结果按**实体**衡量（用 `seqeval`）："
        "只有一个实体的所有词和类型都对了，才算找到。"),
    "tok.h_data": ("### 1 · Data", "### 1 · 数据"),
    "tok.upload": ("Words and tags: CoNLL / IOB (.conll, .iob, .bio, .txt, .tsv) or JSONL with "
                   "character spans (.jsonl)",
                   "词语和标签：CoNLL / IOB（.conll、.iob、.bio、.txt、.tsv）或带字符位置的 JSONL（.jsonl）"),
    "tok.use_sample": ("Use the sample", "使用示例数据"),
    "tok.use_sample_zh": ("Chinese sample", "中文示例"),
    "tok.sample_note": (
        "The sample has 195 English sentences written for this app (CC0) with people, "
        "organisations, places and dates. CoNLL: one word and its tag per line, a blank line "
        "between sentences. JSONL: `{\"text\": \"Ada lives in Paris\", \"entities\": [[13, 18, "
        "\"LOC\"]]}` per line. The Chinese sample needs a base model that reads Chinese.",
        "示例数据是为本应用编写的 195 个英文句子（CC0），包含人名、机构、地点和日期。CoNLL：每行一个词和它的标签，"
        "句子之间空一行。JSONL：每行一个 `{\"text\": \"Ada lives in Paris\", \"entities\": [[13, 18, \"LOC\"]]}`。"
        "中文示例需要一个能读中文的基础模型。"),
    "tok.data_ok": ("**{n} sentences**, {words} words, {k} entity types: {types}.",
                    "**{n} 个句子**，{words} 个词，{k} 种实体类型：{types}。"),
    "tok.preview": ("The first sentences, entities highlighted", "前几个句子（实体已高亮）"),
    "tok.counts_title": ("Entities per type", "每种类型的实体数"),
    "tok.h_setup": ("### 2 · Set up", "### 2 · 设置"),
    "tok.base": ("Base model (an encoder)", "基础模型（编码器）"),
    "tok.name": ("Name of the new model", "新模型的名称"),
    "tok.name_ph": ("my-entity-tagger (optional)", "my-entity-tagger（可选）"),
    "tok.epochs": ("Epochs", "训练轮数"),
    "tok.lr": ("Learning rate", "学习率"),
    "tok.batch": ("Batch size (sentences)", "批大小（句子数）"),
    "tok.max_len": ("Max length (word pieces per sentence)", "最大长度（每句的词片段数）"),
    "tok.val": ("Validation share (%)", "验证集比例（%）"),
    "tok.seed": ("Seed", "随机种子"),
    "tok.h_train": ("### 3 · Train", "### 3 · 训练"),
    "tok.start": ("Start training", "开始训练"),
    "tok.stop": ("Stop (keep the best so far)", "停止（保留目前最好的）"),
    "tok.job_box": ("Job id (kept in this browser; paste one to follow it)",
                    "任务 ID（保存在此浏览器中；粘贴一个 ID 可以继续查看）"),
    "tok.job_ph": ("tokens-…", "tokens-…"),
    "tok.attach": ("Follow this job", "查看此任务"),
    "tok.epoch_table": ("Per epoch (validation, entity level)", "每轮结果（验证集，实体级）"),
    "tok.epoch_cols": ("Epoch|Train loss|Val loss|Precision|Recall|F1",
                       "轮次|训练损失|验证损失|精确率|召回率|F1"),
    "tok.h_results": ("### 4 · Results", "### 4 · 结果"),
    "tok.no_results": ("Results appear here when training ends.", "训练结束后，结果会显示在这里。"),
    "tok.summary": (
        "**Entity F1 {f1:.2f}** (precision {p:.2f}, recall {r:.2f}) on {n} validation sentences "
        "with {entities} entities, best epoch {epoch}. Baseline — each word gets the tag it had "
        "most often in training: **F1 {base:.2f}**. Trained in {secs:.0f} s. Saved as "
        "**{name}** (`{key}`); it now appears in *Analyse meaning*.",
        "**实体 F1 {f1:.2f}**（精确率 {p:.2f}，召回率 {r:.2f}），验证集 {n} 个句子、{entities} 个实体，"
        "最佳轮次 {epoch}。基线——每个词取它在训练数据中最常见的标签：**F1 {base:.2f}**。训练用时 {secs:.0f} 秒。"
        "已保存为 **{name}**（`{key}`）；它现在会出现在“语义分析”中。"),
    "tok.summary_stopped": ("Stopped early; the best weights so far were kept.",
                            "已提前停止；保留了目前最好的权重。"),
    "tok.per_type": ("Per entity type", "每种实体类型"),
    "tok.type_cols": ("Type|Precision|Recall|F1|Entities", "类型|精确率|召回率|F1|实体数"),
    "tok.wrong": ("Sentences it got wrong (validation)", "模型标错的句子（验证集）"),
    "tok.wrong_none": ("Every validation sentence is tagged right.", "验证集的每个句子都标对了。"),
    "tok.truth": ("right", "正确"),
    "tok.model": ("model", "模型"),
    "tok.wrong_legend": ("Words whose tag is wrong are underlined in red.",
                         "标签错误的词用红色下划线标出。"),
    "tok.h_keep": ("### 5 · Keep it", "### 5 · 保存"),
    "tok.zip": ("Download the model (.zip)", "下载模型（.zip）"),
    "tok.zip_file": ("Model files", "模型文件"),
    "tok.stop_sent": ("Stopping after the current step; the best weights so far are kept.",
                      "将在当前步骤后停止；保留目前最好的权重。"),
    "tok.already_finished": ("This job has already finished.", "这个任务已经结束了。"),
    "tok.code": ("The training loop in code", "训练循环的代码"),
    # notices from models/training/tokens/ (Chinese; English comes from models/)
    "notice.tok_columns": ("Each line has {n} columns; the first is read as the word and the "
                           "last as its tag.",
                           "每行有 {n} 列；第一列作为词，最后一列作为标签。"),
    "notice.tok_long": ("{n} sentences have more than {max} words; only their beginning is used.",
                        "有 {n} 个句子超过 {max} 个词；只使用它们的开头部分。"),
    "notice.tok_sampled": ("{n} sentences: a random {kept} of them are used, so an epoch stays "
                           "short.",
                           "共 {n} 个句子：随机使用其中 {kept} 个，让每轮训练保持较短。"),
    "notice.tok_truncated": ("{n} sentences are longer than {max_length} word pieces; the words "
                             "after that are not seen (they count as not found). Raise Max "
                             "length to see them.",
                             "有 {n} 个句子超过 {max_length} 个词片段；之后的词模型看不到（算作没"
                             "找到）。调大“最大长度”就能看到它们。"),
    "notice.tok_chinese_base": ("Most of these sentences are Chinese, and {base} reads {share} "
                                "of their pieces as [UNK]: it cannot tell those characters "
                                "apart. Pick a base model that reads Chinese, such as {bases} "
                                "(add one in the Models tab while online).",
                                "这些句子大多是中文，而 {base} 把其中 {share} 的片段读成 [UNK]："
                                "它分不清这些汉字。请选择能读中文的基础模型，例如 {bases}（联网时"
                                "在“模型”标签页添加）。"),
    "notice.tok_unknown": ("{share} of the word pieces are [UNK]: the base model's vocabulary "
                           "does not know them, so it cannot learn from them.",
                           "有 {share} 的词片段是 [UNK]：基础模型的词表不认识它们，所以无法从中学"
                           "习。"),
    # errors (Chinese; English comes from the exception)
    "err.tok_bad_tag": ("{name}, line {line}: the tag {tag!r} is not O, B-TYPE or I-TYPE. Write "
                        "O for a word outside any entity, B-PER on the first word of a person's "
                        "name and I-PER on the words after it.",
                        "{name} 第 {line} 行：标签 {tag!r} 不是 O、B-类型 或 I-类型。实体外的词写"
                        " O，人名的第一个词写 B-PER，后面的词写 I-PER。"),
    "err.tok_i_without_b": ("{name}, line {line}: {tag} follows {prev}, but an entity must start "
                            "with {start}. Change this tag to {start} (or tag the word before it "
                            "as part of the same entity).",
                            "{name} 第 {line} 行：{tag} 跟在 {prev} 后面，但实体必须以 {start} 开"
                            "始。请把这个标签改成 {start}（或把前一个词也标为同一个实体）。"),
    "err.tok_one_column": ("{name}, line {line} has one column. Each line needs a word, a tab "
                           "(or space) and its tag, such as 'Paris<tab>B-LOC'.",
                           "{name} 第 {line} 行只有一列。每行需要一个词、一个制表符（或空格）和它"
                           "的标签，例如 'Paris<tab>B-LOC'。"),
    "err.tok_columns": ("{name}, line {line}: this line has {n} columns but the lines before it "
                        "have {expected}. Each line holds one word and its tag (a word with a "
                        "space in it goes on two lines).",
                        "{name} 第 {line} 行有 {n} 列，但前面的行有 {expected} 列。每行只放一个词"
                        "和它的标签（含空格的词要分成两行）。"),
    "err.tok_bad_json": ("{name}, row {row} is not valid JSON. Each line must be one object such "
                         "as {{\"text\": \"Ada lives in Paris\", \"entities\": [[13, 18, \"LOC\"]]}}.",
                         "{name} 第 {row} 行不是有效的 JSON。每行必须是一个对象，例如 {{\"text\": "
                         "\"Ada lives in Paris\", \"entities\": [[13, 18, \"LOC\"]]}}。"),
    "err.tok_no_text": ("{name}, row {row} has no \"text\". Each line needs the sentence under "
                        "\"text\" and its spans under \"entities\".",
                        "{name} 第 {row} 行没有 \"text\"。每行需要在 \"text\" 中放句子，在 "
                        "\"entities\" 中放实体位置。"),
    "err.tok_bad_span": ("{name}, row {row}: the span {span} is not a start, an end and a label, "
                         "such as [13, 18, \"LOC\"] or {{\"start\": 13, \"end\": 18, \"label\": \"LOC\"}}.",
                         "{name} 第 {row} 行：{span} 不是“起点、终点、标签”，应写成 [13, 18, "
                         "\"LOC\"] 或 {{\"start\": 13, \"end\": 18, \"label\": \"LOC\"}}。"),
    "err.tok_span_outside": ("{name}, row {row}: the span {start}–{end} ({label}) is outside its "
                             "text, which has {length} characters (counted from 0; the end is "
                             "not included). Fix the offsets of this span.",
                             "{name} 第 {row} 行：位置 {start}–{end}（{label}）超出了它的文本，该"
                             "文本只有 {length} 个字符（从 0 开始数，终点不包含在内）。请修改这个"
                             "实体的位置。"),
    "err.tok_overlap": ("{name}, row {row}: the span {start}–{end} ({label}) overlaps another "
                        "span. Each word can belong to one entity only.",
                        "{name} 第 {row} 行：位置 {start}–{end}（{label}）与另一个实体重叠。每个"
                        "词只能属于一个实体。"),
    "err.tok_no_sentences": ("{name} holds no sentences. CoNLL: one word and its tag per line, a "
                             "blank line between sentences.",
                             "{name} 中没有句子。CoNLL 格式：每行一个词和它的标签，句子之间空一行"
                             "。"),
    "err.tok_too_few": ("{name} has {n} sentences; at least {min} are needed (some are kept "
                        "aside to measure the model).",
                        "{name} 只有 {n} 个句子；至少需要 {min} 个（一部分要留作验证）。"),
    "err.tok_no_entities": ("{name} has no entities: every tag is O. Tag the first word of each "
                            "entity B-TYPE and the words after it I-TYPE.",
                            "{name} 中没有实体：所有标签都是 O。请把每个实体的第一个词标为 B-类型"
                            "，后面的词标为 I-类型。"),
    "err.tok_many_types": ("{name} has {n} entity types; at most {max} are supported. Merge "
                           "similar types.",
                           "{name} 有 {n} 种实体类型；最多支持 {max} 种。请合并相近的类型。"),
    "err.tok_bad_format": ("{name}: files ending in {suffix} cannot be read here. Use CoNLL "
                           "(.conll, .iob, .bio, .txt, .tsv) or JSONL with character spans "
                           "(.jsonl).",
                           "{name}：这里不能读取以 {suffix} 结尾的文件。请使用 CoNLL（.conll、"
                           ".iob、.bio、.txt、.tsv）或带字符位置的 JSONL（.jsonl）。"),
    "err.tok_no_file": ("The file {name} cannot be found: upload it again (or check its path).",
                        "找不到文件 {name}：请重新上传（或检查它的路径）。"),
    "err.tok_too_big": ("{name} is {mb} MB; the limit is {limit} MB. Use fewer sentences.",
                        "{name} 有 {mb} MB；上限是 {limit} MB。请减少句子数。"),
    "err.tok_no_data": ("Upload a file or click Use the sample first.",
                        "请先上传文件，或点击“使用示例数据”。"),
    "err.tok_no_job": ("There is no training job to stop yet. Start one first.",
                       "还没有可以停止的训练任务。请先开始一个。"),
    "err.tok_no_model": ("There is no trained model to download yet. Finish a training first.",
                         "还没有训练好的模型可以下载。请先完成一次训练。"),
}
