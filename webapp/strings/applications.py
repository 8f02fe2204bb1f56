"""User-visible strings of the Applications tab: key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "tab.applications": ("Applications", "应用"),
    "apps.intro": (
        "What can a language model **do**? Here it summarizes, translates and answers questions. "
        "An instruct model gets each task in the way we measured to work best for it (open "
        "*The prompt actually sent* to see it and why); a specialist such as T5, BART or an opus-mt "
        "translator was trained for one task; an extractive QA model copies the answer out of "
        "the context. Open *Generation insight* to see which tokens the model hesitated between.",
        "语言模型能**做**什么？这里让它做摘要、翻译和回答问题。指令模型以我们实测效果最好的方式接收每个任务"
        "（展开“实际发送给模型的提示词”就能看到具体内容和原因）；T5、BART、opus-mt 翻译模型这类专用模型是专门为一个任务训练的；"
        "抽取式问答模型则直接从上下文里“抄”出答案。展开“生成洞察”，可以看到模型在每一步犹豫过哪些词元。"),
    "apps.settings": ("Sampling settings (all three tasks)", "采样设置（三个任务通用）"),
    "apps.greedy": ("Greedy: always the most likely token (best for these tasks)",
                    "贪心：总是选最可能的词元（最适合这些任务）"),
    "apps.temperature": ("Temperature (when not greedy)", "温度（非贪心时）"),
    "apps.top_k": ("Top-k (0 = off; when not greedy)", "Top-k（0 = 不限制；非贪心时）"),
    "apps.model": ("Model", "模型"),
    "apps.sub.summarize": ("Summarize", "摘要"),
    "apps.sub.translate": ("Translate", "翻译"),
    "apps.sub.answer": ("Answer questions", "问答"),
    # summarize
    "apps.sum.text": ("Text to summarize", "要摘要的文本"),
    "apps.sum.example": (
        "The Amazon rainforest covers much of the Amazon basin of South America. It is the "
        "largest tropical rainforest in the world and is home to millions of species of "
        "insects, plants, birds and other animals. Scientists warn that deforestation, driven "
        "mainly by cattle ranching and farming, could push parts of the forest past a tipping "
        "point where it turns into dry savanna. Several countries have promised to end illegal "
        "logging by 2030.",
        "亚马逊雨林覆盖了南美洲亚马逊盆地的大部分地区，是世界上最大的热带雨林，生活着数以百万计的昆虫、植物、"
        "鸟类和其他动物。科学家警告说，主要由养牛和农业造成的森林砍伐，可能使部分雨林越过临界点，变成干燥的稀树草原。"
        "多个国家已承诺在 2030 年前结束非法砍伐。"),
    "apps.sum.length": ("Summary length", "摘要长度"),
    "apps.len.short": ("short (one sentence)", "短（一句话）"),
    "apps.len.medium": ("medium (2–3 sentences)", "中（两三句话）"),
    "apps.len.long": ("long (a paragraph)", "长（一段）"),
    "apps.sum.run": ("Summarize", "生成摘要"),
    "apps.sum.output": ("Summary", "摘要"),
    # translate
    "apps.tr.text": ("Text to translate", "要翻译的文本"),
    # Chinese → English in both languages: the packaged 135M model translates a simple Chinese
    # sentence into English right, but nothing it was measured on into Chinese (README,
    # "Applications"); the tab's advice names a model that does.
    "apps.tr.example": ("今天天气很好。", "今天天气很好。"),
    "apps.tr.source": ("From", "源语言"),
    "apps.tr.target": ("To", "目标语言"),
    "apps.tr.run": ("Translate", "翻译"),
    "apps.tr.output": ("Translation", "译文"),
    "apps.lang.en": ("English", "英语"),
    "apps.lang.zh": ("Chinese", "中文"),
    "apps.lang.de": ("German", "德语"),
    "apps.lang.fr": ("French", "法语"),
    "apps.lang.es": ("Spanish", "西班牙语"),
    "apps.lang.ro": ("Romanian", "罗马尼亚语"),
    # answer
    "apps.qa.question": ("Question", "问题"),
    "apps.qa.question_example": ("Who wrote Pride and Prejudice?", "长城位于哪个国家？"),
    "apps.qa.context": ("Context (the text that holds the answer)", "上下文（包含答案的文本）"),
    "apps.qa.context_example": (
        "Pride and Prejudice is a novel by Jane Austen, published in 1813. It follows Elizabeth "
        "Bennet, who learns that first impressions can be wrong.",
        "长城是中国古代修建的军事防御工程，东起山海关，西至嘉峪关，总长度超过两万公里。"),
    "apps.qa.run": ("Answer", "回答"),
    "apps.qa.output": ("Answer", "答案"),
    "apps.qa.where": ("Where the answer is in the context", "答案在上下文中的位置"),
    "apps.qa.span": ("Span score {score:.1%} (P(start) × P(end)); found in window {window} of "
                     "{windows} ({tokens} tokens each, overlapping).",
                     "片段得分 {score:.1%}（起点概率 × 终点概率）；在 {windows} 个相互重叠的窗口中的第 {window} 个找到"
                     "（每个窗口 {tokens} 个词元）。"),
    "apps.qa.not_found": ("The answer does not appear word for word in the context (a generative "
                          "model writes its own words).",
                          "答案没有逐字出现在上下文里（生成式模型会用自己的话来写）。"),
    "apps.qa.stats": ("Span found in {secs:.2f} s · {model}", "用时 {secs:.2f} 秒找到片段 · {model}"),
    # shared output pieces
    "apps.stats": ("{n} tokens in {secs:.1f} s · {tps:.1f} tokens/s · {model}",
                   "{n} 个词元，用时 {secs:.1f} 秒 · 每秒 {tps:.1f} 个词元 · {model}"),
    "apps.batch": (" · served together with {others} other request(s) in one batch",
                   " · 与另外 {others} 个请求合成一批一起计算"),
    "apps.waited": (" · waited {secs:.1f} s in the queue", " · 排队等待 {secs:.1f} 秒"),
    "apps.sent": ("The prompt actually sent to the model", "实际发送给模型的提示词"),
    # how each task is asked (the format measured best on assets/eval/, bench/bench_prompts.py)
    "apps.how.summarize": (
        "**How the model is asked.** A small model is very sensitive to the way a task is put to "
        "it, so we measured several ways on our own evaluation set and kept the best. Asked to "
        "write a summary, this 135M model often invents details (and in Chinese it writes "
        "mostly non-words), so here it *chooses* instead: the instruction goes into its chat "
        "template, then every sentence of your text is scored as the model's reply (its average "
        "log-probability per token), and the best-scored sentences, as many as the length asks "
        "for, are the summary, in the text's order. This is an *extractive* summary; the "
        "specialist models write their own (*abstractive*). Below is exactly what the model reads.",
        "**我们怎样向模型提问。** 小模型对任务的表述方式非常敏感，所以我们在自己的评测集上比较了几种问法，选用了效果最好的"
        "一种。让这个 1.35 亿参数的模型自己写摘要时，它常常编造细节（写中文时大多不成词），所以这里让它*选择*：把指令放进"
        "它的对话模板，再把你文本中的每一句都当作模型的回答来打分（每个词元的平均对数概率），按长度要求取得分最高的几句，"
        "按原文顺序组成摘要。这叫*抽取式*摘要；专用模型会用自己的话写（*生成式*摘要）。下面就是模型实际读到的全部内容。"),
    "apps.how.translate": (
        "**How the model is asked.** We measured several ways of asking on our own evaluation "
        "set and kept the best: one worked example (the same sentence in both languages) and then "
        "your text, as plain text the model continues; the output ends at its first line break. "
        "Below is exactly what the model reads.",
        "**我们怎样向模型提问。** 我们在自己的评测集上比较了几种问法，选用了效果最好的一种：先给一个示例（同一句话的两种"
        "语言），再给你的文本，让模型以普通文本的方式接着写下去；输出在第一个换行处结束。下面就是模型实际读到的全部内容。"),
    "apps.how.answer": (
        "**How the model is asked.** We measured several ways of asking on our own evaluation "
        "set and kept the best: one worked example, then the context and your question as plain "
        "text (\"Context: … Question: … Answer:\"), and the answer is always *a piece of the "
        "context*. For an English question the model writes it token by token, but may only "
        "choose a token that continues a piece of the context, and it stops at a line break. For "
        "a Chinese question every short piece of the context is scored as a whole answer (how "
        "likely the model finds it, and a line break after it) and the best one is taken: token "
        "by token, this model starts a Chinese answer at the start of a clause. Below is exactly "
        "what the model reads.",
        "**我们怎样向模型提问。** 我们在自己的评测集上比较了几种问法，选用了效果最好的一种：先给一个示例，再以普通文本"
        "给出上下文和你的问题（“Context: … Question: … Answer:”），答案总是*上下文中的一段*。英文问题由模型逐个词元写出，"
        "但每一步只能选择能接上上下文中某一段的词元，遇到换行就停止。中文问题则把上下文中每一个短片段都当作完整答案来打分"
        "（模型认为它有多可能，以及它后面接换行的可能），取得分最高的一段：如果逐个词元地写，这个模型总是从一个分句的开头"
        "写起。下面就是模型实际读到的全部内容。"),
    "apps.insight": ("Generation insight: the top-5 candidates at every step",
                     "生成洞察：每一步概率最高的 5 个候选词元"),
    "apps.insight_help": (
        "Each token of the output is coloured by the probability the model gave it (green: "
        "sure, red: unsure). Click a token to see the 5 tokens the model considered at that "
        "step: *model* is its own probability, *sampled from* is the probability after "
        "temperature and top-k (greedy always takes the first row).",
        "输出中的每个词元按模型给它的概率着色（绿色：很确定；红色：不确定）。点击一个词元，可以看到模型在这一步考虑的 "
        "5 个候选：“模型”是模型自己给出的概率，“实际抽样”是经过温度和 top-k 处理后的概率（贪心总是取第一行）。"),
    "apps.col.token": ("token", "词元"),
    "apps.col.model": ("model", "模型"),
    "apps.col.sample": ("sampled from", "实际抽样"),
    "apps.insight_empty": ("Run a task to see its tokens here.", "运行一个任务后，这里会显示它的词元。"),
    "apps.insight_none": ("Extractive models do not generate tokens: they point at a span.",
                          "抽取式模型不生成词元，而是指出原文中的一个片段。"),
    "apps.attention": ("See attention for this output", "查看这个输出的注意力"),
    "apps.quality": ("Quality against a reference", "与参考答案比较质量"),
    "apps.reference": ("Reference written by a person", "人工写的参考文本"),
    "apps.reference_ph": ("Paste a reference summary or translation here",
                          "在这里粘贴参考摘要或参考译文"),
    "apps.score": ("Score", "打分"),
    "apps.score_help": (
        "ROUGE counts shared words and word pairs between the summary and the reference; BLEU "
        "counts shared word sequences and chrF shared character sequences in a translation. "
        "0–100, higher is closer to the reference — not the same as better.",
        "ROUGE 统计摘要与参考文本共有的词和词对；BLEU 统计译文与参考译文共有的词序列，chrF 统计共有的字符序列。"
        "范围 0–100，越高表示越接近参考文本——但不等于一定更好。"),
    # notices
    "notice.cut": ("The text had {n} tokens; {name} reads at most {room} here, so only the "
                        "first {room} were used.",
                        "文本有 {n} 个词元，而 {name} 在这里最多读取 {room} 个，所以只用了前 {room} 个。"),
    "notice.pair_unknown": ("{name} does not say which languages it translates; it will "
                                 "translate in the direction it was trained on.",
                                 "{name} 没有注明它翻译哪两种语言；它会按训练时的方向翻译。"),
    "notice.better_ready": ("{better} does this better; pick it in the list (it may "
                                 "download first).",
                                 "{better} 做这件事更好；可以在列表中选择它（可能需要先下载）。"),
    "notice.better_offline_summarize": (
        "{better} would summarize better, but it needs a download and the app is offline. "
        "Using {name} instead, a {size}-parameter model: it picks sentences of your text "
        "rather than writing a summary, and can miss the main point.",
        "{better} 的摘要效果会更好，但需要下载，而应用目前离线。现在使用的是 {name}，一个只有 {size} 参数的"
        "小模型：它从你的文本里挑选句子，而不是自己写摘要，可能漏掉要点。"),
    "notice.better_offline_translate": (
        "{better} would translate better, but it needs a download and the app is offline. "
        "Using {name} instead, a {size}-parameter model: it translates poorly, especially into "
        "Chinese — expect mistakes.",
        "{better} 的翻译效果会更好，但需要下载，而应用目前离线。现在使用的是 {name}，一个只有 {size} 参数的"
        "小模型：它翻译得很差，尤其是译成中文时——请预期会有错误。"),
    "notice.better_offline_answer": (
        "{better} would answer better, but it needs a download and the app is offline. Using "
        "{name} instead, a {size}-parameter model: it often answers wrongly — check the answer "
        "against the context.",
        "{better} 回答得会更好，但需要下载，而应用目前离线。现在使用的是 {name}，一个只有 {size} 参数的"
        "小模型：它经常答错——请对照上下文检查答案。"),
    # errors raised in models/runners/applications/ and models/runners/metrics.py
    "err.apps_no_room": ("{name} reads at most {max_length} tokens, which leaves no room for "
                         "this text and its answer; pick a shorter output or a model that reads "
                         "more.",
                         "{name} 最多只能读取 {max_length} 个词元，放不下这段文本和它的回答；请选"
                         "择更短的输出，或能读更多内容的模型。"),
    "err.bad_language": ("Unknown language {language!r}; pick one from the list.",
                         "未知的语言 {language!r}；请从列表中选择。"),
    "err.same_language": ("The source and target languages are the same; pick two different "
                          "languages.",
                          "源语言和目标语言相同；请选择两种不同的语言。"),
    "err.unsupported_pair": ("{name} only translates {pairs}. Pick one of those directions or "
                             "another model.",
                             "{name} 只能翻译：{pairs}。请选择这些方向之一，或换一个模型。"),
    "err.qa_no_context": ("{name} finds the answer inside a context: paste a text that contains "
                          "the answer into the Context box.",
                          "{name} 要在上下文中寻找答案：请把包含答案的文本粘贴到“上下文”框里。"),
    "err.question_too_long": ("The question has {n} tokens; keep it under {limit} so the context "
                              "has room.",
                              "问题有 {n} 个词元；请控制在 {limit} 个以内，给上下文留出空间。"),
    "err.no_output": ("There is no output to score yet: run the task first.",
                      "还没有可以打分的输出：请先运行任务。"),
    "err.metric_too_long": ("The output or the reference is longer than {limit:,} words; the "
                            "scores compare texts up to that length. Paste a shorter reference.",
                            "输出或参考文本超过 {limit:,} 个词（或汉字）；评分只比较这个长度以内的"
                            "文本。请粘贴更短的参考文本。"),
    "err.no_reference": ("Paste a reference (a text written by a person) to compare the output "
                         "with.",
                         "请粘贴一段参考文本（由人写的），用来和输出比较。"),
}
