"""User-visible strings of the Pre-training tab ("pre.") and the Cost of scale tab ("scale."),
and the notices of the Attention and Pre-training tabs ("notice."): key -> (English, Chinese)."""
from models.runners.embeddings import example_text

STRINGS: dict[str, tuple[str, str]] = {
    # ---- tab titles ----
    "pre.tab": ("Pre-training", "预训练"),
    "scale.tab": ("Cost of scale", "规模的代价"),
    "pre.intro": (
        "**Pre-training** is how a language model learns before anyone teaches it a task: it reads "
        "a huge amount of text and, at every position, tries to predict the next token. Nobody "
        "labels anything — the text itself is the answer key (*self-supervised* learning). On "
        "the way, the model learns to turn text into vectors where similar meanings lie close "
        "together. The three parts below let you see each of these ideas.",
        "**预训练**是模型在学会任何具体任务之前的学习阶段：它阅读海量文本，在每个位置上尝试预测下一个词元。"
        "没有人给数据打标签——文本本身就是答案（*自监督*学习）。在这个过程中，模型学会把文本变成向量，"
        "让意思相近的文本在向量空间里彼此靠近。下面三个部分让你亲眼看到这些想法。"),
    "pre.sub_embed": ("Embedding space", "向量空间"),
    "pre.sub_predict": ("What the model predicts", "模型在预测什么"),
    "pre.sub_train": ("Train a tiny model", "从零训练一个小模型"),
    # ---- embedding space ----
    "pre.embed_intro": (
        "A sentence encoder (here **all-MiniLM-L6-v2**) turns each sentence into a list of 384 "
        "numbers. As its model card says, the token vectors are **averaged** (mean pooling) and "
        "scaled to length 1, so the **cosine similarity** of two sentences is simply their dot "
        "product: 1 = same direction, 0 = unrelated. The heatmap shows every pair; the map "
        "squeezes 384 dimensions into 2 (**PCA** keeps the overall layout, **t-SNE** keeps "
        "neighbours together), so distances there are only a rough picture.",
        "句子编码器（这里是 **all-MiniLM-L6-v2**）把每个句子变成 384 个数字。按照它的模型卡，"
        "先把各个词元的向量**取平均**（均值池化），再缩放到长度为 1，于是两个句子的**余弦相似度**就是它们的点积："
        "1 表示方向相同，0 表示毫不相关。热力图显示每一对句子的相似度；二维地图把 384 维压缩成 2 维"
        "（**PCA** 保留整体布局，**t-SNE** 保留邻居关系），所以图上的距离只是一个粗略的示意。"),
    "pre.sentences": ("Sentences (one per line; optional label after a Tab or ' | ')",
                      "句子（每行一句；可在 Tab 或 ' | ' 后面加标签）"),
    "pre.sentences_value": (example_text("en"), example_text("zh")),
    "pre.upload_list": ("…or upload a list (.txt, .tsv or .csv)", "……或上传一个列表（.txt、.tsv 或 .csv）"),
    "pre.example_en": ("English examples", "英文示例"),
    "pre.example_zh": ("Chinese examples", "中文示例"),
    "pre.method": ("2-D map", "二维地图"),
    "pre.query": ("Find the sentences closest to…", "查找与这句话最接近的句子……"),
    "pre.query_ph": ("A cat is resting on a couch.", "一只猫在沙发上休息。"),
    "pre.embed_model": ("Encoder", "编码器"),
    "pre.embed_run": ("Embed", "计算向量"),
    "pre.heatmap": ("Cosine similarity", "余弦相似度"),
    "pre.map": ("Sentences on a 2-D map", "句子的二维地图"),
    "pre.nb_cols": ("Rank|Sentence|Label|Cosine", "名次|句子|标签|余弦"),
    "pre.nb_query": ("Closest to: *{query}*", "与这句话最接近：*{query}*"),
    "pre.nb_first": ("No query given, so here are the neighbours of the first sentence: *{query}*",
                     "没有输入查询句，下面是第一个句子的近邻：*{query}*"),
    "pre.pca_axes": ("PCA axis {i} ({share:.0%} of the variance)", "PCA 第 {i} 轴（占方差的 {share:.0%}）"),
    "pre.tsne_axes": ("t-SNE axis {i} (no unit)", "t-SNE 第 {i} 轴（无单位）"),
    "pre.unk_notice": ("{share:.0%} of the tokens were unknown to {model} ([UNK]): its vocabulary "
                       "is mostly English, so similarities of these sentences mean little. A good "
                       "reminder that a model only understands what its tokenizer can spell.",
                       "{share:.0%} 的词元对 {model} 来说是未知的（[UNK]）：它的词表几乎只有英文，"
                       "所以这些句子之间的相似度意义不大。这正好说明：模型只能理解它的分词器能表示的东西。"),
    "pre.embed_stats": ("{n} sentences · {dim} dimensions · {secs:.1f} s", "{n} 个句子 · {dim} 维 · {secs:.1f} 秒"),
    # ---- what the model predicts ----
    "pre.predict_intro": (
        "This is the pre-training objective itself. For each token the model gave a probability "
        "*p* before it saw the token; its **surprisal** is −ln *p* (the loss it would be trained "
        "on). Dark red tokens surprised the model; pale ones it saw coming. **Perplexity** = "
        "e^(mean surprisal): the model was as unsure as if it picked among that many tokens "
        "uniformly. Move the slider to see the 10 tokens the model expected after any position.",
        "这就是预训练的目标本身。模型在看到每个词元之前，都给过它一个概率 *p*；它的**惊讶度**就是 −ln *p*"
        "（也就是训练时的损失）。深红色的词元让模型很意外，浅色的词元则在它预料之中。"
        "**困惑度** = e^(平均惊讶度)：相当于模型在这么多个词元中均匀地瞎猜。拖动滑块，可以看到模型在任意位置之后预期的前 10 个词元。"),
    "pre.lm_model": ("Language model", "语言模型"),
    "pre.text": ("Text", "文本"),
    "pre.text_value": ("The capital of France is Paris. The capital of Germany is Berlin. "
                       "The capital of Italy is a banana.",
                       # chosen by measurement (bench/bench_pretrain_examples.py): SmolLM2 reads
                       # little Chinese, yet here 香蕉 is clearly more surprising than 东京
                       "中国的首都是北京。日本的首都是东京。英国的首都是香蕉。"),
    "pre.score": ("Score every token", "给每个词元打分"),
    "pre.ppl": ("**Perplexity {ppl:.2f}** · mean surprisal {mean:.2f} nats ({bits:.2f} bits) "
                "over {n} tokens · {model}",
                "**困惑度 {ppl:.2f}** · 平均惊讶度 {mean:.2f} 奈特（{bits:.2f} 比特），共 {n} 个词元 · {model}"),
    "pre.position": ("Position (the token after which we look at the predictions)",
                     "位置（查看该词元之后的预测）"),
    "pre.topk_title": ("After “{token}” the model expected:", "在“{token}”之后，模型预期："),
    "pre.actual": ("The actual next token “{token}” had p = {p:.3f} (rank {rank}).",
                   "实际的下一个词元“{token}”的概率 p = {p:.3f}（排第 {rank} 名）。"),
    "pre.actual_end": ("This is the last token: there is no actual next token to compare.",
                       "这是最后一个词元：后面没有实际的词元可以比较。"),
    "pre.surprisal_axis": ("surprisal (nats)", "惊讶度（奈特）"),
    "pre.prob_axis": ("probability", "概率"),
    "pre.no_prediction": ("(no context to predict from)", "（没有上文可用于预测）"),
    "pre.legend": ("Colour = surprisal: pale = expected, dark red = surprising. Hover a token for "
                   "its numbers. A thin bar before a character is a token that holds only its "
                   "first bytes (the model reads text as bytes; one Chinese character is often "
                   "two or three tokens).",
                   "颜色 = 惊讶度：浅色 = 意料之中，深红 = 出乎意料。把鼠标停在词元上可以看到具体数字。"
                   "字前面的细条是只包含这个字前几个字节的词元（模型按字节读文本，一个汉字常常被切成两三个词元）。"),
    "pre.partial_token": ("the first bytes of the next character", "下一个字的前几个字节"),
    # ---- train a tiny model ----
    "pre.train_intro": (
        "Train a real GPT from **random weights** on a small text. First a **byte-level BPE "
        "tokenizer** is trained on the corpus (it learns which letter groups are frequent), then "
        "a small GPT-2 (2 layers, width 128 by default) learns to predict the next token. Watch "
        "the loss fall and the samples change from gibberish to words. The result is saved as a "
        "model you can use in the Generate and Attention tabs (its context is short: positions "
        "beyond the training context were never trained). On a corpus this small the model soon "
        "**memorises** whole sentences (the loss drops near 0); big models do the same thing on "
        "trillions of tokens, far too many to memorise — see *Cost of scale*.",
        "从**随机权重**开始，在一小段文本上训练一个真正的 GPT。先在语料上训练一个**字节级 BPE 分词器**"
        "（它学会哪些字母组合常见），然后一个小小的 GPT-2（默认 2 层、宽度 128）学习预测下一个词元。"
        "看着损失下降，生成的样例从乱码慢慢变成单词。训练结果会保存为一个模型，可以在“生成”和“注意力”标签页里使用"
        "（它的上下文很短：超出训练上下文的位置从未被训练过）。语料这么小，模型很快就会把整句话**背下来**（损失接近 0）；"
        "大模型做的是同样的事，只是用了上万亿个词元，多到根本背不下来——请看“规模的代价”。"),
    "pre.corpus": ("Bundled corpus", "内置语料"),
    "pre.corpus.english": ("English: short stories (6.5 KB)", "英文：简短的小故事（6.5 KB）"),
    "pre.corpus.chinese": ("Chinese: short stories (2 KB)", "中文：简短的小故事（2 KB）"),
    "pre.upload_corpus": ("…or upload your own plain-text corpus (.txt, UTF-8)",
                          "……或上传你自己的纯文本语料（.txt，UTF-8）"),
    "pre.settings": ("Model and training settings", "模型与训练设置"),
    "pre.name": ("Name of the model", "模型名称"),
    "pre.layers": ("Layers", "层数"),
    "pre.width": ("Width (embedding size)", "宽度（嵌入维度）"),
    "pre.heads": ("Attention heads", "注意力头数"),
    "pre.context": ("Training context (tokens)", "训练上下文（词元数）"),
    "pre.vocab": ("Vocabulary size (BPE)", "词表大小（BPE）"),
    "pre.batch": ("Batch size (sequences per step)", "批大小（每步的序列数）"),
    "pre.lr": ("Learning rate", "学习率"),
    "pre.steps": ("Training steps", "训练步数"),
    "pre.sample_every": ("A sample every N steps", "每 N 步生成一个样例"),
    "pre.prompt": ("Sample prompt (empty = start of a text)", "样例的开头（留空 = 从文本开头生成）"),
    "pre.seed": ("Seed", "随机种子"),
    "pre.start": ("Start training", "开始训练"),
    "pre.stop": ("Stop (and save)", "停止（并保存）"),
    "pre.resume": ("Resume", "继续训练"),
    "pre.job": ("Job id (this browser remembers it and follows the job after a reload; to follow "
                "a job from another browser, paste its id and press Enter)",
                "任务 ID（这个浏览器会记住它，刷新页面后会自动继续显示任务；要查看在别的浏览器里开始的任务，"
                "把它的 ID 粘贴到这里并按回车）"),
    "pre.loss_plot": ("Training loss", "训练损失"),
    "pre.step": ("step", "步数"),
    "pre.loss": ("loss (nats per token)", "损失（每词元奈特）"),
    "pre.sample_col": ("Step|Sample", "步数|样例"),
    "pre.status_queued": ("Waiting in the queue (position {pos}).", "正在排队（第 {pos} 位）。"),
    "pre.status_running": ("{msg} · {pct:.0f}% · {tps:,.0f} tokens/s", "{msg} · {pct:.0f}% · 每秒 {tps:,.0f} 个词元"),
    "pre.status_info": ("Tokenizer: {vocab:,} tokens learned · model: {params:,} parameters · corpus: "
                        "{tokens:,} tokens", "分词器：学到 {vocab:,} 个词元 · 模型：{params:,} 个参数 · 语料：{tokens:,} 个词元"),
    "pre.status_done": ("Done: {steps} steps, loss {first:.2f} → {final:.2f}. Saved as **{key}** — pick it "
                        "in the Generate or Attention tab (in Generate, untick Chat mode: a model "
                        "this small has never seen a chat).",
                        "完成：{steps} 步，损失 {first:.2f} → {final:.2f}。已保存为 **{key}**——可在“生成”或“注意力”"
                        "标签页中选择它（在“生成”中请取消“对话模式”：这么小的模型从没见过对话）。"),
    "pre.status_stopped": ("Stopped at step {steps} and saved as **{key}**. Press Resume to continue.",
                           "在第 {steps} 步停止并已保存为 **{key}**。按“继续训练”可以接着训练。"),
    "pre.status_failed": ("The training failed: {error}", "训练失败：{error}"),
    "pre.status_cancelled": ("Cancelled before it started.", "任务在开始前已取消。"),
    "pre.already_finished": ("This training has already finished; nothing to stop.",
                             "这次训练已经结束，没有需要停止的。"),
    "pre.phase.tokenizer": ("Training the tokenizer", "正在训练分词器"),
    "pre.phase.loading": ("Loading the saved run", "正在载入已保存的训练"),
    "pre.phase.training": ("Training", "正在训练"),
    "pre.phase.step": ("Step {step}/{steps}", "第 {step}/{steps} 步"),
    "pre.phase.saving": ("Saving the model", "正在保存模型"),
    "pre.phase.done": ("Done", "完成"),
    "pre.phase.stopped": ("Stopped and saved", "已停止并保存"),
    "pre.stop_sent": ("Stopping at the next step; the model will be saved.", "将在下一步停止，并保存模型。"),
    "pre.no_job": ("No training job yet: press Start.", "还没有训练任务：请按“开始训练”。"),
    # ---- errors (Chinese; English comes from the exception) ----
    "err.pre_no_sentences": ("There are no sentences. Type one sentence per line, or load an "
                             "example set.",
                             "没有句子。请每行输入一个句子，或载入示例。"),
    "err.pre_one_sentence": ("There is only one sentence, so there is nothing to compare it "
                             "with. Add at least one more line.",
                             "只有一个句子，没有可以比较的对象。请至少再加一行。"),
    "err.pre_binary_file": ("That file is not UTF-8 plain text. Upload a .txt file saved as "
                            "UTF-8, with one sentence per line.",
                            "这个文件不是 UTF-8 纯文本。请上传保存为 UTF-8、每行一句的 .txt 文件"
                            "。"),
    "err.pre_tsne_small": ("t-SNE needs at least 4 sentences; use PCA for fewer.",
                           "t-SNE 至少需要 4 个句子；句子更少时请用 PCA。"),
    "err.pre_bad_method": ("The map method must be pca or tsne.",
                           "地图方法只能是 pca 或 tsne。"),
    "err.pre_bad_setting": ("{field} must be between {lo} and {hi}; got {value}.",
                            "{field} 必须在 {lo} 到 {hi} 之间；当前值是 {value}。"),
    "err.pre_heads_divide": ("The width ({width}) must divide evenly into {heads} heads.",
                             "宽度（{width}）必须能被注意力头数（{heads}）整除。"),
    "err.pre_bad_name": ("Give the model a name made of letters, digits, dots, dashes or "
                         "underscores.",
                         "请给模型起一个由字母、数字、点、短横线或下划线组成的名字。"),
    "err.pre_corpus_binary": ("The corpus file is not plain text (it looks binary or is not "
                              "UTF-8). Upload a .txt file saved as UTF-8.",
                              "语料文件不是纯文本（看起来是二进制文件或不是 UTF-8 编码）。请上传 "
                              "UTF-8 编码的 .txt 文件。"),
    "err.pre_corpus_empty": ("The corpus is empty. Upload a text file or pick a bundled corpus.",
                             "语料是空的。请上传一个文本文件，或选择内置语料。"),
    "err.pre_corpus_small": ("The corpus has only {chars} characters; a tokenizer and a model "
                             "need at least {need} (a few paragraphs). Add more text.",
                             "语料只有 {chars} 个字符，太少了：分词器和模型至少需要 {need} 个字符"
                             "（几段话）。请多加一些文字。"),
    "err.pre_corpus_few_tokens": ("The corpus gives only {tokens} tokens; with a training "
                                  "context of {context} tokens, training needs at least {need} "
                                  "(twice the context). Add more text or lower the training "
                                  "context.",
                                  "语料只切分出 {tokens} 个词元；训练上下文是 {context} 个词元时"
                                  "，训练至少需要 {need} 个词元（上下文的两倍）。请多加一些文字，"
                                  "或把训练上下文调小。"),
    # ---- notices (not errors): key "notice.<code>" ----
    "notice.att_cut_text": ("The text has {n} tokens; only the first {limit} are shown (the most "
                            "this view handles for this model). Paste a shorter text to see its end.",
                            "这段文本有 {n} 个词元，只显示前 {limit} 个（这是这个视图对该模型能处理的上限）。"
                            "想看结尾的话，请粘贴短一些的文本。"),
    "notice.att_cut_target": ("The second text has {n} tokens; only the first {limit} are shown. "
                              "Paste a shorter one to see its end.",
                              "第二段文本有 {n} 个词元，只显示前 {limit} 个。想看结尾的话，请粘贴短一些的文本。"),
    "notice.pre_sentences_capped": ("{n} sentences were given; only the first {limit} are shown, "
                                    "to keep the charts readable.",
                                    "共给出 {n} 个句子；为了让图表清晰，只显示前 {limit} 个。"),
    "notice.pre_sentences_cut": ("{n} sentence(s) were longer than {limit} tokens; only their "
                                 "beginning was used.",
                                 "有 {n} 个句子超过 {limit} 个词元，只用了它们的开头部分。"),
    "notice.pre_text_cut": ("The text has {n} tokens; only the first {limit} were scored.",
                            "这段文本有 {n} 个词元，只给前 {limit} 个打了分。"),
    "notice.pre_corpus_capped": ("The corpus is larger than {mb} MB; only the first {mb} MB are used.",
                                 "语料超过 {mb} MB，只使用前 {mb} MB。"),
    "err.pre_nothing_to_resume": ("There is no saved run called {name!r} to resume. Start a new "
                                  "one.",
                                  "没有名为 {name!r} 的已保存训练可以继续。请开始一次新的训练。"),
    # ---- cost of scale ----
    "scale.intro": (
        "How much does a model cost? Choose a shape — **layers**, **width**, **heads**, "
        "**vocabulary**, **context** — and the calculator counts the **parameters** layer by "
        "layer (the same count as the real model, checked by the tests), then the **memory** to "
        "run it and to train it, the **compute** to train it (≈ 6 · parameters · tokens "
        "floating-point operations: 2 for the forward pass, 4 for the backward pass) and the "
        "**time** on a number of GPUs. GPT-3 (175 billion parameters, 300 billion tokens) needs "
        "about 3.1 × 10²³ operations: hundreds of GPUs for weeks.",
        "一个模型要花多少代价？选择它的形状——**层数**、**宽度**、**注意力头数**、**词表**、**上下文长度**——"
        "计算器会逐层数出**参数量**（与真实模型的数目一致，由测试检查），然后估算运行和训练所需的**内存**、"
        "训练所需的**计算量**（约 6 × 参数量 × 词元数 次浮点运算：前向 2 次，反向 4 次），以及在若干块 GPU 上需要的**时间**。"
        "GPT-3（1750 亿参数，3000 亿词元）大约需要 3.1 × 10²³ 次运算：数百块 GPU 跑上几周。"),
    "scale.preset": ("Preset", "预设"),
    "scale.loaded": ("loaded: {name}", "已加载：{name}"),
    "scale.arch": ("Architecture", "架构"),
    "scale.family": ("Family", "类型"),
    "scale.layers": ("Layers", "层数"),
    "scale.width": ("Width (d_model)", "宽度（d_model）"),
    "scale.heads": ("Attention heads", "注意力头数"),
    "scale.kv_heads": ("Key/value heads (0 = same as heads)", "键/值头数（0 = 与注意力头数相同）"),
    "scale.ff": ("MLP width (0 = 4 × width)", "MLP 宽度（0 = 4 × 宽度）"),
    "scale.vocab": ("Vocabulary", "词表大小"),
    "scale.context": ("Context (tokens)", "上下文（词元数）"),
    "scale.tied": ("Output layer shares the embedding matrix (tied)", "输出层与嵌入矩阵共享（权重绑定）"),
    "scale.training": ("Training run", "训练设置"),
    "scale.tokens": ("Training tokens (billions)", "训练词元数（十亿）"),
    "scale.gpu": ("GPU", "GPU"),
    "scale.gpus": ("Number of GPUs", "GPU 数量"),
    "scale.util": ("Utilisation (share of the peak actually reached)", "利用率（实际达到的峰值比例）"),
    "scale.dtype": ("Precision", "精度"),
    "scale.batch": ("Sequences per GPU at once (activations)", "每块 GPU 同时处理的序列数（影响激活值）"),
    "scale.run": ("Estimate", "估算"),
    "scale.memory_plot": ("Memory of one model copy", "一份模型所需的内存"),
    "scale.growth_plot": ("Cost grows with width: 2 × wider ≈ 4 × parameters and compute",
                          "成本随宽度增长：宽度翻倍 ≈ 参数量和计算量变为 4 倍"),
    "scale.presets_plot": ("Known models: parameters and training compute", "已知模型：参数量与训练计算量"),
    "scale.inference": ("inference", "推理"),
    "scale.train": ("training", "训练"),
    "scale.weights": ("weights", "权重"),
    "scale.kv_cache": ("KV cache", "KV 缓存"),
    "scale.gradients": ("gradients", "梯度"),
    "scale.adam": ("Adam states", "Adam 状态"),
    "scale.activations": ("activations", "激活值"),
    "scale.width_axis": ("width (d_model), same number of layers", "宽度（d_model），层数不变"),
    "scale.params_axis": ("parameters", "参数量"),
    "scale.flops_axis": ("training FLOPs", "训练浮点运算量"),
    "scale.you": ("your model", "你的模型"),
    "scale.result": (
        "| | |\n|---|---|\n"
        "| **Parameters** | **{params}** ({params_exact:,}) — embeddings {emb}, attention {attn}, MLP {mlp}, norms {norms}, head/pooler {head} |\n"
        "| Non-embedding parameters | {non_emb} |\n"
        "| Memory to **run** it ({dtype}) | **{inf}** = weights {inf_w} + KV cache {kv} for {context:,} tokens |\n"
        "| Memory to **train** it ({dtype}) | **{train}** = weights {tw} + gradients {tg} + Adam {ta} + activations {tact} |\n"
        "| Training compute ≈ 6·N·D | **{flops:.3g} FLOPs** for {tokens} tokens |\n"
        "| Time on {gpus:,} × {gpu_tflops:g} TFLOP/s at {util:.0%} | **{time}** ({gpu_days:,.0f} GPU-days) |\n",
        "| | |\n|---|---|\n"
        "| **参数量** | **{params}**（{params_exact:,}）——嵌入 {emb}，注意力 {attn}，MLP {mlp}，归一化 {norms}，输出层/池化层 {head} |\n"
        "| 非嵌入参数量 | {non_emb} |\n"
        "| **运行**所需内存（{dtype}） | **{inf}** = 权重 {inf_w} + {context:,} 个词元的 KV 缓存 {kv} |\n"
        "| **训练**所需内存（{dtype}） | **{train}** = 权重 {tw} + 梯度 {tg} + Adam {ta} + 激活值 {tact} |\n"
        "| 训练计算量 ≈ 6·N·D | {tokens} 个词元需要 **{flops:.3g} 次浮点运算** |\n"
        "| 在 {gpus:,} 块 {gpu_tflops:g} TFLOP/s 的 GPU 上、利用率 {util:.0%} | **{time}**（{gpu_days:,.0f} GPU·天） |\n"),
    "scale.check": ("Checked against the loaded model: formula {formula:,} · real {real:,} {mark}",
                    "与已加载的模型核对：公式 {formula:,} · 实际 {real:,} {mark}"),
    "scale.note": ("Preset: {note}", "预设说明：{note}"),
    "scale.fine_print": (
        "Approximations: training memory counts 16 bytes per parameter in both precisions "
        "(fp32: 4 weights + 4 gradients + 8 Adam; bf16 mixed precision: 2 + 2 + 12 with an fp32 "
        "master copy), activations without recomputation (Korthikanti et al. 2022). Memory is "
        "per model copy: many GPUs split it only with model/optimizer sharding. Compute ignores "
        "attention's extra cost over long contexts.",
        "近似说明：两种精度下训练内存都按每个参数 16 字节计算（fp32：权重 4 + 梯度 4 + Adam 8；"
        "bf16 混合精度：2 + 2 + 12，其中包括一份 fp32 主权重）；激活值按不做重计算估算（Korthikanti 等，2022）。"
        "内存是一份模型副本所需的量：只有做模型/优化器切分时，多块 GPU 才能分摊。计算量忽略了长上下文下注意力的额外开销。"),
    "scale.unit_seconds": ("seconds", "秒"),
    "scale.unit_minutes": ("minutes", "分钟"),
    "scale.unit_hours": ("hours", "小时"),
    "scale.unit_days": ("days", "天"),
    "scale.unit_years": ("years", "年"),
    "scale.preset.gpt3": ("GPT-3 175B", "GPT-3 175B"),
    "scale.preset.gpt2": ("GPT-2 small (124M)", "GPT-2 small（1.24 亿）"),
    "scale.preset.gpt2-xl": ("GPT-2 XL (1.5B)", "GPT-2 XL（15 亿）"),
    "scale.preset.bert-base": ("BERT-base (110M)", "BERT-base（1.1 亿）"),
    "scale.preset.minilm": ("all-MiniLM-L6-v2 (packaged)", "all-MiniLM-L6-v2（内置）"),
    "scale.preset.smollm2": ("SmolLM2-135M (packaged)", "SmolLM2-135M（内置）"),
    "scale.preset.tiny": ("Tiny model of “Train a tiny model”", "“从零训练一个小模型”里的小模型"),
    "scale.note.gpt3": ("Brown et al. 2020: 96 layers, width 12288, 300B training tokens",
                        "Brown 等，2020：96 层，宽度 12288，3000 亿训练词元"),
    "scale.note.gpt2": ("Radford et al. 2019; training tokens not published (10B assumed)",
                        "Radford 等，2019；训练词元数没有公布（这里假设 100 亿）"),
    "scale.note.gpt2-xl": ("Radford et al. 2019; training tokens not published (10B assumed)",
                           "Radford 等，2019；训练词元数没有公布（这里假设 100 亿）"),
    "scale.note.bert-base": ("Devlin et al. 2018: 1M steps x 256 sequences, mostly 128 tokens "
                             "long (~40B tokens)",
                             "Devlin 等，2018：100 万步 × 256 个序列，大多长 128 个词元（约 400 亿词元）"),
    "scale.note.minilm": ("the packaged encoder; its distillation budget is not comparable (1B "
                          "assumed)", "内置的编码器；它是蒸馏得来的，训练量不好直接比较（这里假设 10 亿）"),
    "scale.note.smollm2": ("the packaged decoder; trained on 2T tokens (SmolLM2 model card)",
                           "内置的解码器；用 2 万亿词元训练（见 SmolLM2 模型卡）"),
    "scale.note.tiny": ("the defaults of “Train a tiny model”", "“从零训练一个小模型”的默认设置"),
    "err.scale_empty_field": ("{field} is empty: type a number.", "“{field}”是空的：请填一个数字。"),
    "err.scale_not_whole": ("{field} must be a whole number; got {value}.",
                            "“{field}”必须是整数；当前值是 {value}。"),
    "err.scale_out_of_range": ("{field} must be between {lo} and {hi}; got {value}.",
                               "{field} 必须在 {lo} 到 {hi} 之间；当前值是 {value}。"),
    # the names of settings in messages ("field" parameter, webapp/i18n.py render)
    "field.n_layer": ("Layers", "层数"),
    "field.n_embd": ("Width", "宽度"),
    "field.n_head": ("Attention heads", "注意力头数"),
    "field.block_size": ("Training context", "训练上下文"),
    "field.vocab_size": ("Vocabulary size", "词表大小"),
    "field.batch_size": ("Batch size", "批大小"),
    "field.learning_rate": ("Learning rate", "学习率"),
    "field.steps": ("Training steps", "训练步数"),
    "field.sample_every": ("A sample every N steps", "样例间隔步数"),
    "field.sample_tokens": ("Sample length", "样例长度"),
    "field.seed": ("Seed", "随机种子"),
    "field.report_every": ("Report every N steps", "报告间隔步数"),
    "field.n_layers": ("Layers", "层数"),
    "field.d_model": ("Width", "宽度"),
    "field.n_heads": ("Attention heads", "注意力头数"),
    "field.n_kv_heads": ("Key/value heads", "键/值头数"),
    "field.d_ff": ("MLP width", "MLP 宽度"),
    "field.vocab": ("Vocabulary", "词表大小"),
    "field.context": ("Context", "上下文"),
    "field.tokens": ("Training tokens", "训练词元数"),
    "field.gpus": ("Number of GPUs", "GPU 数量"),
    "field.utilisation": ("Utilisation", "利用率"),
    "field.gpu_tflops": ("TFLOP/s", "TFLOP/s"),
    "field.batch": ("Sequences per GPU", "每块 GPU 的序列数"),

    "err.scale_heads_divide": ("The width ({d_model}) must divide evenly into {n_heads} heads: "
                               "each head gets width / heads dimensions.",
                               "宽度（{d_model}）必须能被 {n_heads} 个注意力头整除：每个头分到 宽"
                               "度 / 头数 个维度。"),
    "err.scale_kv_divide": ("{n_heads} attention heads cannot be shared evenly by {n_kv_heads} "
                            "key/value heads.",
                            "{n_heads} 个注意力头不能平均分给 {n_kv_heads} 个键/值头。"),
    "err.scale_bad_family": ("The architecture family must be gpt2, bert or llama, not "
                             "{family!r}.",
                             "架构类型必须是 gpt2、bert 或 llama。"),
    "err.scale_bad_dtype": ("Precision must be fp32 or bf16.",
                            "精度必须是 fp32 或 bf16。"),
    "err.scale_unknown_arch": ("The calculator knows GPT-2, BERT and Llama-style models; "
                               "{model_type} is not one of them.",
                               "计算器只认识 GPT-2、BERT 和 Llama 类型的模型；{model_type} 不在其"
                               "中。"),
    "err.scale_unknown_preset": ("There is no preset called {key!r}.",
                                 "没有名为 {key!r} 的预设。"),
}
