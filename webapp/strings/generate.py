"""User-visible strings of the Generate tab: key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "gen.intro": (
        "A language model writes one token at a time: at each step it turns the text so far "
        "into a probability for every token in its vocabulary and picks one. **Temperature** "
        "flattens or sharpens those probabilities, **top-k** and **top-p** cut off unlikely "
        "tokens, **greedy** always takes the most likely one. **Chat mode** wraps your message "
        "in the model's chat template, the format it was fine-tuned to answer. After it has "
        "written, open **Next-token probabilities** to see, step by step, which tokens it could "
        "have picked and which one it drew.",
        "语言模型一次写出一个词元（token）：每一步，它把已有的文本变成词表中每个词元的概率，然后选出一个。"
        "**温度**让概率分布更平或更尖，**top-k** 和 **top-p** 去掉不太可能的词元，**贪心**总是选择最可能的那个。"
        "**对话模式**会把你的消息套进模型的对话模板——模型微调时学会回答的格式。"
        "生成之后，打开**下一个词元的概率**，可以逐步看到每一步有哪些候选词元、最后抽中了哪一个。"),
    "gen.model": ("Model", "模型"),
    "gen.prompt": ("Prompt", "提示词"),
    "gen.prompt_info": ("Shift+Enter generates too.", "按 Shift+Enter 也可以生成。"),
    # the Chinese default carries the English question: asked in Chinese only, the packaged
    # model answers nonsense (bench/bench_generate_defaults.py, README "Generate")
    "gen.prompt_value": ("What is the capital of France?",
                         "法国的首都是哪里？(What is the capital of France?)"),
    "gen.model_note": (
        "The packaged SmolLM2-135M is small and learned mostly English: it reads little Chinese. "
        "So the Chinese examples carry the English question too, and it answers in English. A "
        "bigger model (Qwen2.5-0.5B-Instruct in the Models tab, when online) answers in Chinese.",
        "内置的 SmolLM2-135M 很小，主要学的是英文，读得懂的中文很少。所以中文示例里附上了英文问题，"
        "它会用英文回答。更大的模型（联网时可在“模型”标签页加载 Qwen2.5-0.5B-Instruct）能用中文回答。"),
    "gen.chat": ("Chat mode (use the model's chat template)", "对话模式（使用模型的对话模板）"),
    "gen.settings": ("Sampling settings", "采样设置"),
    "gen.max_new": ("Max new tokens", "最多生成的词元数"),
    "gen.temperature": ("Temperature", "温度"),
    "gen.top_k": ("Top-k (0 = off)", "Top-k（0 = 不限制）"),
    "gen.top_p": ("Top-p", "Top-p"),
    "gen.greedy": ("Greedy (always the most likely token)", "贪心（总是选最可能的词元）"),
    "gen.seed": ("Seed (-1 = random each time)", "随机种子（-1 = 每次随机）"),
    "gen.run": ("Generate", "生成"),
    "gen.stop": ("Stop", "停止"),
    "gen.output": ("Output", "输出"),
    "gen.sent": ("The prompt actually sent to the model", "实际发送给模型的提示词"),
    "gen.stats": ("{n} tokens in {secs:.1f} s · {tps:.1f} tokens/s · {model}",
                  "{n} 个词元，用时 {secs:.1f} 秒 · 每秒 {tps:.1f} 个词元 · {model}"),
    "gen.truncated": ("Only the last {room:,} of the prompt's {n:,} tokens were read: {model} "
                      "reads at most {window:,}, including the {new} it writes.",
                      "提示词共有 {n:,} 个词元，只读取了最后 {room:,} 个：{model} 最多读取 {window:,} 个词元，"
                      "其中包括它要写出的 {new} 个。"),
    "notice.gen_truncated": ("Only the last {room:,} of the prompt's {n:,} tokens were read: "
                             "{model} reads at most {window:,}, including the {new} it writes.",
                             "提示词共有 {n:,} 个词元，只读取了最后 {room:,} 个：{model} 最多读取 "
                             "{window:,} 个词元，其中包括它要写出的 {new} 个。"),
    "err.window_too_small": ("{name} reads at most {window} tokens, so it cannot write {new} new "
                             "ones: set Max new tokens to {most} or less.",
                             "{name} 最多只能读取 {window} 个词元，所以写不出 {new} 个新词元：请"
                             "把“最多生成的词元数”设为 {most} 或更少。"),
    # ---- reading a long prompt ----
    "gen.stopped": ("Stopped", "已停止"),
    "gen.prefill": ("Reading the prompt: {done:,} of {total:,} tokens ({pct:.0%}) · about {left} left",
                    "正在读取提示词：{done:,} / {total:,} 个词元（{pct:.0%}）· 大约还需 {left}"),
    "gen.long_window": ("Your prompt has **{n:,} tokens**; {model} reads at most {room:,} of them "
                        "(its window is {window:,} tokens, including the {new} it writes), so only "
                        "the last {room:,} would be read.",
                        "你的提示词有 **{n:,} 个词元**；{model} 最多读取其中 {room:,} 个（它的窗口是 "
                        "{window:,} 个词元，包括它要写出的 {new} 个），所以只会读取最后 {room:,} 个。"),
    "gen.long_tokens": ("Your prompt has **{n:,} tokens**.", "你的提示词有 **{n:,} 个词元**。"),
    "gen.long_time": ("On this computer, reading it would take about **{read}**, and the whole "
                      "run about **{time}**.",
                      "在这台电脑上，读取它大约需要 **{read}**，整个过程大约需要 **{time}**。"),
    "gen.long_offer": ("**Cut to fit** keeps the last {fit:,} tokens: read in about {fit_read}, "
                       "the whole run about {fit_time}. **Generate anyway** uses the prompt as it is.",
                       "**裁剪到合适长度**会保留最后 {fit:,} 个词元：读取大约需要 {fit_read}，"
                       "整个过程大约需要 {fit_time}。**仍然生成**则按原样使用提示词。"),
    "gen.cut": ("Cut to fit", "裁剪到合适长度"),
    "gen.anyway": ("Generate anyway", "仍然生成"),
    "gen.cut_done": ("The prompt was cut to its last {kept:,} tokens (of {n:,}).",
                     "提示词已裁剪为最后 {kept:,} 个词元（原有 {n:,} 个）。"),
    "gen.queued": ("Still writing the previous answer: this request waits in the queue and "
                   "starts when that one ends. Stop cancels both.",
                   "还在写上一个回答：这个请求正在排队，等上一个结束后开始。按“停止”会把两个都取消。"),
    "gen.seconds": ("{n:.0f} s", "{n:.0f} 秒"),
    "gen.minutes": ("{n:.0f} min", "{n:.0f} 分钟"),
    "gen.hours": ("{n:.1f} h", "{n:.1f} 小时"),
    # ---- next-token probabilities ----
    "gen.probs": ("Next-token probabilities at each step", "每一步下一个词元的概率"),
    "gen.probs_help": (
        "Pick a step with the slider, or click a token of the answer. The bars are the most "
        "likely next tokens at that step **after temperature, top-k and top-p** (what the token "
        "was drawn from); the pale bars are the model's own probabilities before those settings. "
        "The orange bar is the token that was drawn. A token shown as ⟨e5 b7⟩ is part of a "
        "character: Chinese characters often take two or three tokens.",
        "用滑块选择一步，或者点击回答中的某个词元。柱子是这一步最可能的下一个词元，概率已经过**温度、top-k 和 "
        "top-p** 处理（也就是实际抽取时用的分布）；浅色柱子是模型自己在这些设置之前给出的概率。"
        "橙色柱子是最终抽中的词元。显示为 ⟨e5 b7⟩ 的词元是某个字符的一部分：一个汉字常常要两三个词元。"),
    "gen.tokens": ("The answer, token by token (darker = the drawn token was more likely)",
                   "逐个词元的回答（颜色越深 = 抽中的词元概率越高）"),
    "gen.step": ("Step", "步骤"),
    "gen.no_steps": ("Generate first: the probabilities of every step appear here.",
                     "请先生成：每一步的概率会显示在这里。"),
    "gen.chart_sampled": ("Step {i}: drew {token} (p = {p:.1%}); {kept:,} tokens could be drawn",
                          "第 {i} 步：抽中 {token}（p = {p:.1%}）；共有 {kept:,} 个词元可能被抽中"),
    "gen.chart_greedy": ("Step {i}: greedy takes the most likely token, {token} (p = {p:.1%})",
                         "第 {i} 步：贪心选择最可能的词元 {token}（p = {p:.1%}）"),
    "gen.bar_final": ("after temperature, top-k, top-p", "经过温度、top-k、top-p 之后"),
    "gen.bar_greedy": ("the model's probability", "模型给出的概率"),
    "gen.bar_model": ("the model's own", "模型自己的概率"),
    "gen.axis_p": ("probability", "概率"),
}
