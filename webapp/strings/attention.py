"""User-visible strings of the attention tab(s): key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "att.title": ("Attention", "注意力"),
    "att.intro": (
        "Every layer of a transformer lets each token **look at** the other tokens and decide "
        "how much of each to take in: Attention(Q, K, V) = softmax(QKᵀ / √d_k) V. Type a text, "
        "pick a model and press **Show attention**. Each row of the heatmap is one token "
        "(the *query*); its colours show how its attention is split over the tokens it can "
        "see (the *keys*); every row adds up to 1.",
        "Transformer 的每一层都让每个词元去**看**其他词元，并决定从每个词元那里取多少信息："
        "Attention(Q, K, V) = softmax(QKᵀ / √d_k) V。输入一段文字、选一个模型，然后点击**显示注意力**。"
        "热力图的每一行是一个词元（*查询*，query），颜色表示它把注意力怎样分配给能看到的词元（*键*，key）；"
        "每一行加起来都等于 1。"),
    "att.about_title": ("What am I looking at? (and why attention is not an explanation)",
                        "我看到的是什么？（以及为什么注意力不等于解释）"),
    "att.about": (
        "- **Query, key, value.** Each token's hidden vector is multiplied by three learned "
        "matrices. The query asks “what am I looking for?”, the key says “what do I contain?”, "
        "the value is what gets passed on. The dot product of a query with every key, divided "
        "by √d_k and turned into probabilities by softmax, gives one row of the heatmap.\n"
        "- **Heads and layers.** A layer has several heads working side by side, each with its "
        "own matrices, so each can learn a different pattern: looking at the previous token, "
        "at itself, at punctuation, at `[CLS]`/`[SEP]`. The **Overview** tab summarizes every "
        "head in one number so you can spot these.\n"
        "- **Encoders vs decoders.** An encoder (BERT, MiniLM) lets every token see the whole "
        "text. A decoder (GPT, Llama, SmolLM2) has a *causal mask*: a token only sees the tokens "
        "before it, so the upper-right triangle is empty. An encoder-decoder (T5, BART) also "
        "has *cross attention*: each output token looks at the input text.\n"
        "- **Why this is not an explanation.** A high weight says where a head *read from*, not "
        "why the model answered what it did. What a head reads is a mixed vector that already "
        "contains information from other tokens (earlier layers mixed them), the value vectors "
        "can be tiny, and many heads and layers, plus the feed-forward layers, combine "
        "afterwards. Researchers have shown that quite different attention patterns can give "
        "the same prediction. Treat these pictures as a view of the mechanism, and test claims "
        "(for example by changing the input) before believing them.",
        "- **查询、键、值。** 每个词元的隐藏向量分别乘以三个学到的矩阵。查询（query）问“我在找什么？”，"
        "键（key）说“我包含什么？”，值（value）是真正被传递的内容。查询与每个键做点积，除以 √d_k，"
        "再经过 softmax 变成概率，就得到热力图的一行。\n"
        "- **注意力头和层。** 一层里有好几个头并排工作，各有自己的矩阵，所以能学到不同的模式："
        "看前一个词元、看自己、看标点、看 `[CLS]`/`[SEP]`。**总览**页把每个头概括成一个数字，方便你找出这些模式。\n"
        "- **编码器与解码器。** 编码器（BERT、MiniLM）让每个词元看到整段文字。解码器（GPT、Llama、SmolLM2）"
        "有*因果掩码*：一个词元只能看到它前面的词元，所以右上三角是空的。编码器-解码器（T5、BART）"
        "还有*交叉注意力*：每个输出词元去看输入文本。\n"
        "- **为什么这不等于解释。** 权重高只说明某个头从哪里*读取*信息，并不说明模型为什么给出这个答案。"
        "被读取的向量早已在前面的层里混入了其他词元的信息，值向量可能很小，而且后面还有许多头、许多层以及前馈层"
        "共同作用。研究者发现，相差很大的注意力模式也可能得到同样的预测。请把这些图当作观察机制的窗口，"
        "在相信某个结论之前，先动手验证（例如改一改输入）。"),
    "att.model": ("Model", "模型"),
    "att.text": ("Text", "文本"),
    "att.text_value": ("The cat sat on the mat because it was tired.",
                       "The cat sat on the mat because it was tired."),
    "att.target": ("Second text (optional)", "第二段文本（可选）"),
    "att.target_info": (
        "Encoder: a second sentence (sentence pair). Encoder-decoder: the target / output "
        "text. Decoder: a continuation, e.g. generated tokens — marked with a dotted line.",
        "编码器：第二个句子（句子对）。编码器-解码器：目标/输出文本。解码器：续写内容，例如生成的词元——用虚线标出分界。"),
    "att.run": ("Show attention", "显示注意力"),
    "att.view": ("Attention", "注意力类型"),
    "att.view.self": ("self-attention", "自注意力"),
    "att.view.encoder": ("encoder (self)", "编码器（自注意力）"),
    "att.view.decoder": ("decoder (self, causal)", "解码器（自注意力，因果）"),
    "att.view.cross": ("cross (output → input)", "交叉（输出 → 输入）"),
    "att.layer": ("Layer", "层"),
    "att.head": ("Head", "头"),
    "att.only_new": ("Only rows of the continuation (generated tokens)",
                     "只看续写部分（生成的词元）的行"),
    "att.info": ("**{model}** · {kind} · {n} tokens · {layers} layers × {heads} heads",
                 "**{model}** · {kind} · {n} 个词元 · {layers} 层 × {heads} 个头"),
    "att.info_target": ("Target (decoder) side: {m} tokens; its first token is the start "
                        "token the decoder begins with. Row i is the decoder step that has just "
                        "read token i and chooses the next one.",
                        "目标（解码器）一侧：{m} 个词元；第一个是解码器开始用的起始词元。第 i 行是解码器读入第 i 个词元、"
                        "正在选择下一个词元的那一步。"),
    "att.info_boundary": ("The continuation starts at token {b} (dotted line): rows below it "
                          "show how each continuation token attends to the input.",
                          "续写从第 {b} 个词元开始（虚线处）：虚线下方的行显示每个续写词元如何关注输入。"),
    "att.info_pair": ("Sentence B starts at token {b} (dotted line).",
                      "句子 B 从第 {b} 个词元开始（虚线处）。"),
    "att.gqa_note": ("Grouped-query attention: {heads} query heads share {kv} key/value heads "
                     "(every {group} query heads read the same keys and values).",
                     "分组查询注意力（GQA）：{heads} 个查询头共用 {kv} 个键/值头（每 {group} 个查询头读同一组键和值）。"),
    "att.t5_note": ("T5 does **not** divide by √d_k (its weight initialization absorbs the "
                    "scale) and adds a learned relative-position bias to the scores instead of "
                    "position embeddings.",
                    "T5 **不**除以 √d_k（权重初始化已经吸收了这个缩放），并且在分数上加一个学到的相对位置偏置，"
                    "而不是使用位置嵌入。"),
    "att.hover": ("query %{y}: %{customdata[0]}<br>key %{x}: %{customdata[1]}<br>weight %{z:.4f}",
                  "查询 %{y}：%{customdata[0]}<br>键 %{x}：%{customdata[1]}<br>权重 %{z:.4f}"),
    "att.hover_idx": ("query %{y} → key %{x}<br>weight %{z:.4f}",
                      "查询 %{y} → 键 %{x}<br>权重 %{z:.4f}"),
    "att.keys": ("key tokens (looked at)", "键词元（被看的）"),
    "att.queries": ("query tokens (looking)", "查询词元（在看的）"),
    "att.heat_title": ("{view} · layer {layer} · head {head}", "{view} · 第 {layer} 层 · 第 {head} 个头"),
    "att.layer_col": ("layer", "层"),
    "att.tab.heat": ("Heatmap", "热力图"),
    "att.tab.overview": ("Overview of all heads", "所有头总览"),
    "att.tab.bertviz": ("bertviz", "bertviz"),
    "att.tab.walk": ("Formula walkthrough", "公式逐步演算"),
    "att.csv": ("Export this head as CSV", "把这个头导出为 CSV"),
    "att.overview_help": (
        "One number per head (rows: layers, columns: heads). **Click a cell** to open that "
        "head in the heatmap. Try *previous token* on a decoder or *first token* on MiniLM.",
        "每个头一个数字（行：层，列：头）。**点击一个格子**即可在热力图中打开那个头。"
        "可以在解码器上试试*前一个词元*，或在 MiniLM 上试试*第一个词元*。"),
    "att.metric": ("Summary per head", "每个头的概括指标"),
    "att.metric.entropy": ("entropy (bits): low = sharp, high = spread out",
                           "熵（比特）：低 = 集中，高 = 分散"),
    "att.metric.previous": ("weight on the previous token", "放在前一个词元上的权重"),
    "att.metric.self": ("weight on itself", "放在自己身上的权重"),
    "att.metric.first": ("weight on the first token ([CLS] / start)", "放在第一个词元（[CLS] / 开头）上的权重"),
    "att.metric.distance": ("mean distance looked back/ahead (tokens)", "平均注视距离（词元数）"),
    "att.bv_help": (
        "[bertviz](https://github.com/jessevig/bertviz) draws lines from each token to the "
        "tokens it attends to (head view), or every head of every layer as thumbnails (model "
        "view). It runs here without internet. Long texts are cut to keep the page fast; the "
        "heatmap always has everything.",
        "[bertviz](https://github.com/jessevig/bertviz) 会从每个词元画线连到它关注的词元（头视图），"
        "或把每一层的每个头画成缩略图（模型视图）。这里无需联网即可运行。长文本会被截短以保持页面流畅；"
        "热力图始终包含全部内容。"),
    "att.bv_view": ("bertviz view", "bertviz 视图"),
    "att.bv_head": ("head view", "头视图"),
    "att.bv_model": ("model view", "模型视图"),
    "att.bv_draw": ("Draw bertviz", "绘制 bertviz"),
    "att.bv_download": ("bertviz as a standalone HTML file (works offline)",
                        "bertviz 独立 HTML 文件（可离线打开）"),
    "att.bv_all": ("bertviz shows every layer and token.", "bertviz 显示了所有层和所有词元。"),
    "att.bv_cut_tokens": ("bertviz shows the first {n} of {total} tokens.",
                          "bertviz 只显示 {total} 个词元中的前 {n} 个。"),
    "att.bv_cut_layers": ("It shows layers {lo}–{hi} of {total}; move the Layer slider and "
                          "draw again to see others, or use the heatmap for everything.",
                          "它只显示第 {lo}–{hi} 层（共 {total} 层）；移动“层”滑块后重新绘制即可看其他层，或用热力图查看全部。"),
    "att.walk_help": (
        "Recompute the chosen layer and head from the model's own weights, step by step, for "
        "one query token — then compare with the weights the model returned.",
        "用模型自己的权重，针对一个查询词元，一步一步重新计算所选层和头的注意力——再与模型返回的权重比较。"),
    "att.walk_query": ("Query token", "查询词元"),
    "att.walk_run": ("Walk through the formula", "逐步演算公式"),
    "att.row_of": ("row of query {i}", "查询 {i} 的那一行"),
    "att.step.x": ("X (hidden states)", "X（隐藏状态）"),
    "att.step.q": ("Q (this head)", "Q（这个头）"),
    "att.step.k": ("K (its key/value head)", "K（对应的键/值头）"),
    "att.step.v": ("V", "V"),
    "att.step.rope": ("Q after RoPE", "RoPE 旋转后的 Q"),
    "att.step.scores": ("QKᵀ", "QKᵀ"),
    "att.step.scaled": ("QKᵀ / √d_k", "QKᵀ / √d_k"),
    "att.step.bias": ("QKᵀ + position bias", "QKᵀ + 位置偏置"),
    "att.step.masked": ("+ mask", "+ 掩码"),
    "att.step.softmax": ("softmax = attention weights", "softmax = 注意力权重"),
    "att.step.output": ("output oᵢ = Σ Aᵢⱼ vⱼ", "输出 oᵢ = Σ Aᵢⱼ vⱼ"),
    "att.verify_ok": ("✅ **Verified:** the recomputed weights of layer {layer}, head {head} "
                      "match the model's own weights — largest absolute difference "
                      "**{diff}** ({dtype}, limit 1e-4).",
                      "✅ **已验证：** 第 {layer} 层第 {head} 个头重新计算出的权重与模型自己的权重一致——"
                      "最大绝对误差 **{diff}**（{dtype}，上限 1e-4）。"),
    "att.verify_bad": ("⚠️ **Not verified:** largest absolute difference **{diff}** for layer "
                       "{layer}, head {head} ({dtype}; limit 1e-4). Half-precision models on a "
                       "GPU differ more; on CPU in float32 this would be a bug.",
                       "⚠️ **未通过验证：** 第 {layer} 层第 {head} 个头的最大绝对误差为 **{diff}**"
                       "（{dtype}；上限 1e-4）。GPU 上的半精度模型误差会更大；在 CPU 的 float32 下出现这种情况说明有错误。"),
    "att.walk.head": ("### Layer {layer}, head {head}, query token {i} “{tok}” ({view})",
                      "### 第 {layer} 层，第 {head} 个头，查询词元 {i}“{tok}”（{view}）"),
    "att.walk.x": ("**Input.** The hidden states entering this attention layer, one row per "
                   "token (for pre-norm models such as Llama and T5: after the layer norm): "
                   "$$X \\in \\mathbb{{R}}^{{{n} \\times {dm}}}$$",
                   "**输入。** 进入这一注意力层的隐藏状态，每个词元一行（Llama、T5 等先归一化的模型：取层归一化之后的值）："
                   "$$X \\in \\mathbb{{R}}^{{{n} \\times {dm}}}$$"),
    "att.walk.qkv": ("**Projections.** Three learned matrices turn each row into a query, a "
                     "key and a value of size $d_k = {d}$ for this head: "
                     "$$Q^{{({h})}} = X W_Q^{{({h})}} \\in \\mathbb{{R}}^{{{n} \\times {d}}},\\quad "
                     "K^{{({g})}} = X W_K^{{({g})}},\\ V^{{({g})}} = X W_V^{{({g})}} \\in "
                     "\\mathbb{{R}}^{{{m} \\times {d}}},\\quad W \\in \\mathbb{{R}}^{{{dm} \\times {d}}}$$",
                     "**投影。** 三个学到的矩阵把每一行变成这个头的查询、键和值，长度 $d_k = {d}$："
                     "$$Q^{{({h})}} = X W_Q^{{({h})}} \\in \\mathbb{{R}}^{{{n} \\times {d}}},\\quad "
                     "K^{{({g})}} = X W_K^{{({g})}},\\ V^{{({g})}} = X W_V^{{({g})}} \\in "
                     "\\mathbb{{R}}^{{{m} \\times {d}}},\\quad W \\in \\mathbb{{R}}^{{{dm} \\times {d}}}$$"),
    "att.walk.gqa": ("**Grouped-query attention.** {heads} query heads share {kv} key/value "
                     "heads, {group} per group: query head {h} reads key/value head "
                     "$g = \\lfloor {h} / {group} \\rfloor = {g}$. This saves memory when generating.",
                     "**分组查询注意力。** {heads} 个查询头共用 {kv} 个键/值头，每组 {group} 个："
                     "查询头 {h} 读取键/值头 $g = \\lfloor {h} / {group} \\rfloor = {g}$。这样生成时更省内存。"),
    "att.walk.rope": ("**Rotary positions (RoPE).** Each pair of dimensions of $q_i$ and "
                      "$k_j$ is rotated by an angle proportional to its position, with the "
                      "model's own frequencies $\\theta$: $$\\tilde q_i = R_{{\\theta,i}}\\, q_i,\\quad "
                      "\\tilde k_j = R_{{\\theta,j}}\\, k_j \\;\\Rightarrow\\; \\tilde q_i^\\top \\tilde k_j "
                      "\\text{{ depends on }} i - j$$",
                      "**旋转位置编码（RoPE）。** $q_i$ 和 $k_j$ 的每一对维度按与位置成正比的角度旋转，"
                      "频率 $\\theta$ 来自模型本身：$$\\tilde q_i = R_{{\\theta,i}}\\, q_i,\\quad "
                      "\\tilde k_j = R_{{\\theta,j}}\\, k_j \\;\\Rightarrow\\; \\tilde q_i^\\top \\tilde k_j "
                      "\\text{{ 只取决于 }} i - j$$"),
    "att.walk.scores": ("**Scores.** Every query meets every key: $$S = Q K^\\top \\in "
                        "\\mathbb{{R}}^{{{n} \\times {m}}}$$ Highest scores for this query: {top}.",
                        "**分数。** 每个查询与每个键相遇：$$S = Q K^\\top \\in "
                        "\\mathbb{{R}}^{{{n} \\times {m}}}$$ 这个查询得分最高的键：{top}。"),
    "att.walk.scale": ("**Scaling.** $$S' = \\frac{{S}}{{\\sqrt{{d_k}}}} = \\frac{{S}}{{\\sqrt{{{d}}}}} = "
                       "S \\times {s}$$ ($\\sqrt{{{d}}} = {sq}$). Without it, long vectors give huge "
                       "scores and softmax would put almost all weight on one token.",
                       "**缩放。** $$S' = \\frac{{S}}{{\\sqrt{{d_k}}}} = \\frac{{S}}{{\\sqrt{{{d}}}}} = "
                       "S \\times {s}$$（$\\sqrt{{{d}}} = {sq}$）。不缩放的话，向量越长分数越大，softmax 会把几乎所有权重都压到一个词元上。"),
    "att.walk.t5": ("**No √d_k here.** T5 does not divide by $\\sqrt{{d_k}}$: its initialization "
                    "absorbs the scale. {bias}",
                    "**这里没有 √d_k。** T5 不除以 $\\sqrt{{d_k}}$：它的初始化已经吸收了这个缩放。{bias}"),
    "att.walk.t5_bias": ("Instead it adds a learned bias that depends only on the distance "
                         "between positions: $$S' = S + B_{\\mathrm{rel}}$$",
                         "它改为加上一个只取决于位置距离的学到的偏置：$$S' = S + B_{\\mathrm{rel}}$$"),
    "att.walk.t5_nobias": ("Cross attention adds no position bias: $$S' = S$$",
                           "交叉注意力不加位置偏置：$$S' = S$$"),
    "att.walk.mask_causal": ("**Mask.** A decoder may not look ahead: "
                             "$$M_{{ij}} = \\begin{{cases}} 0 & j \\le i \\\\ -\\infty & j > i "
                             "\\end{{cases}},\\quad S'' = S' + M$$ (one text, so no padding is masked).",
                             "**掩码。** 解码器不能偷看后面："
                             "$$M_{{ij}} = \\begin{{cases}} 0 & j \\le i \\\\ -\\infty & j > i "
                             "\\end{{cases}},\\quad S'' = S' + M$$（只有一段文本，所以没有需要屏蔽的填充）。"),
    "att.walk.mask_none": ("**Mask.** Every token may see every key here, and one text has no "
                           "padding, so $$M = 0,\\quad S'' = S'$$",
                           "**掩码。** 这里每个词元都能看到所有键，而且一段文本没有填充，所以 $$M = 0,\\quad S'' = S'$$"),
    "att.walk.softmax": ("**Softmax.** Each row becomes probabilities: "
                         "$$A_{{ij}} = \\frac{{e^{{S''_{{ij}}}}}}{{\\sum_k e^{{S''_{{ik}}}}}}$$ "
                         "This query's row sums to {total}; its largest weights: {top}.",
                         "**Softmax。** 每一行变成概率："
                         "$$A_{{ij}} = \\frac{{e^{{S''_{{ij}}}}}}{{\\sum_k e^{{S''_{{ik}}}}}}$$ "
                         "这个查询的一行加起来是 {total}；权重最大的键：{top}。"),
    "att.walk.output": ("**Output.** The weights mix the values: $$o_i = \\sum_j A_{{ij}}\\, v_j "
                        "\\in \\mathbb{{R}}^{{{d}}}$$ All heads' outputs are then concatenated and "
                        "multiplied by $W_O$ before the feed-forward layer.",
                        "**输出。** 用权重把值向量混合起来：$$o_i = \\sum_j A_{{ij}}\\, v_j "
                        "\\in \\mathbb{{R}}^{{{d}}}$$ 之后所有头的输出会拼接起来，乘以 $W_O$，再进入前馈层。"),
    # ---- errors ----
    "err.att_bad_index": ("For this model the layer must be from 0 to {layers} and the head from "
                          "0 to {heads}.",
                          "这个模型的层号必须在 0–{layers} 之间，头号必须在 0–{heads} 之间。"),
    "err.att_unavailable": ("This model returned no attention weights. Models that use a fused "
                            "attention kernel cannot show them; pick another model (MiniLM or "
                            "SmolLM2 always work).",
                            "这个模型没有返回注意力权重（使用融合注意力内核的模型无法显示）。请换"
                            "一个模型（MiniLM 或 SmolLM2 总是可以）。"),
    "err.att_walk_unsupported": ("The formula walkthrough knows BERT-, Llama-, GPT-2-, T5- and "
                                 "BART-style layers; this model ({model_type}) is built "
                                 "differently. The heatmaps and bertviz still work for it.",
                                 "公式逐步演算支持 BERT、Llama、GPT-2、T5 和 BART 类的层；这个模"
                                 "型（{model_type}）结构不同。热力图和 bertviz 仍然可以使用。"),
    "err.att_bad_metric": ("{metric!r} cannot summarise this attention; pick one of: {choices}. "
                           "(Cross attention's queries and keys come from two different texts, "
                           "so only entropy, first token and mean distance apply.)",
                           "{metric!r} 不能用来概括这种注意力；请从以下选择：{choices}。（交叉注"
                           "意力的查询和键来自两段不同的文本，所以只能用熵、第一个词元和平均距离"
                           "。）"),
    "err.att_bad_query": ("For this text the query token must be from 0 to {last} (got {query}).",
                          "对这段文本，查询词元必须在 0–{last} 之间（当前是 {query}）。"),
    "err.att_no_result": ("Press “Show attention” first: there is nothing to draw yet.",
                          "请先点击“显示注意力”：现在还没有可以绘制的内容。"),
    "err.att_view_gone": ("This attention view was let go to make room for other work (the "
                          "server keeps only a few at a time). Press “Show attention” again.",
                          "这个注意力视图已被释放，为其他任务腾出空间（服务器一次只保留几个）。"
                          "请再点击一次“显示注意力”。"),
}
