"""User-visible strings of the "Why this token?" tab: key -> (English, Chinese). Keys start
with "why."; its error texts are "err.why_*" and its notices "notice.why_*"."""

STRINGS: dict[str, tuple[str, str]] = {
    "why.title": ("Why this token?", "为什么是这个词元？"),
    "why.intro": (
        "Attention shows where a head looks. The questions that come next are different: "
        "**what does each layer already predict**, **which words of the input made this token "
        "likely**, **why this word and not that one**, and **what if the model had picked "
        "another word**. Type a text (or keep the example), pick a model, and open a part "
        "below. The example is English because the small packaged model mostly knows English.",
        "注意力告诉我们一个头在“看”哪里。接下来的问题则不同：**每一层已经在预测什么**、"
        "**输入里的哪些词让这个词元变得可能**、**为什么是这个词而不是那个词**，以及**如果模型选了另一个词会怎样**。"
        "输入一段文字（或保留示例）、选择模型，然后打开下面的某一部分。示例是英文的，因为内置的小模型主要懂英文。"),
    "why.about_title": ("How to read these pictures (and what each one assumes)",
                        "怎样读这些图（以及每种方法的前提假设）"),
    "why.about": (
        "- **Logit lens.** A transformer keeps one vector per token and every layer adds "
        "something to it. Normally only the last vector is turned into a prediction (final "
        "norm, then the output layer). The lens sends *every* layer's vector through that same "
        "last step, so you can watch the answer form. It assumes the middle layers already "
        "speak the output layer's language; early layers often do not, so their guesses look "
        "random. The last row is checked against the model's own output.\n"
        "- **Integrated gradients.** Start from a *baseline* where every word is replaced by a "
        "blank (a space for language models, [MASK] for classifiers), walk in "
        "small steps to the real text, and add up how much the score of "
        "the explained token changes along the way, word by word. Red words pushed the score up, "
        "blue words pushed it down. The scores should add up exactly to the change of the score "
        "between the baseline and the text; the **completeness error** says how far they are "
        "from that because the walk used a finite number of steps. More steps: smaller error, "
        "but each step is one forward and one backward pass.\n"
        "- **Gradient × input.** One step only: how sensitive the score is to each word, times "
        "the word's vector. Quick, but it has no completeness check and can be misleading when "
        "the model is saturated.\n"
        "- **Why X and not Y.** Explains the difference logit(X) − logit(Y) at the same step: "
        "which words favour X *over* Y. Words that help both cancel out.\n"
        "- **Attention rollout.** Attention of a later layer reads vectors that earlier layers "
        "already mixed. Rollout multiplies the layers' attention (averaged over heads, plus the "
        "skip connection) to follow the mixing back to the input words. It assumes information "
        "moves only as the attention weights say: it ignores the values, the feed-forward layers "
        "and the norms.\n"
        "- **Why attention is not an explanation.** A high attention weight says where a head "
        "*read* from, not what made the answer. Quite different attention patterns can give the "
        "same prediction. Attribution methods measure the effect on the output instead, but they "
        "too depend on a baseline and a path. Use these views to form a hypothesis, then test it "
        "by changing the input.\n"
        "- **Branching.** At every step the model has a probability for every token; the text "
        "you see is one path. Click another token to see where that path leads, and walk back "
        "through the tree of paths you explored.",
        "- **Logit lens（逻辑值透镜）。** Transformer 为每个词元保留一个向量，每一层都往里加一些东西。"
        "通常只有最后一层的向量会被变成预测（最后的归一化，再经过输出层）。透镜把*每一层*的向量都送进同样的最后一步，"
        "于是你能看到答案是怎样逐渐形成的。它假设中间层已经在用输出层能读懂的“语言”；前面几层往往还不是，"
        "所以它们的猜测看起来很随机。最后一行会与模型自己的输出进行核对。\n"
        "- **积分梯度。** 从一个*基线*出发（每个词都换成空白：语言模型用空格，分类器用 [MASK]），一小步一小步走到真实文本，"
        "把一路上被解释的词元的分数如何变化逐词累加起来。红色的词把分数往上推，蓝色的词往下拉。"
        "这些分数加起来本应正好等于分数从基线到真实文本的变化；**完备性误差**说明由于只走了有限步，"
        "它们离这个值还差多少。步数越多误差越小，但每一步都是一次前向和一次反向计算。\n"
        "- **梯度 × 输入。** 只走一步：分数对每个词有多敏感，乘以这个词的向量。很快，但没有完备性检验，"
        "在模型“饱和”时可能产生误导。\n"
        "- **为什么是 X 而不是 Y。** 解释同一步上的差值 logit(X) − logit(Y)：哪些词让模型更偏向 X 而*不是* Y。"
        "对两者都有帮助的词会相互抵消。\n"
        "- **注意力展开（rollout）。** 后面层的注意力读取的是前面层已经混合过的向量。展开把各层的注意力"
        "（对所有头取平均，再加上残差连接）相乘，沿着混合过程追溯回输入的词。它假设信息只按照注意力权重流动："
        "忽略了值向量、前馈层和归一化。\n"
        "- **为什么注意力不等于解释。** 注意力权重高只说明某个头从哪里*读取*，并不说明是什么导致了答案。"
        "相差很大的注意力模式也可能给出同样的预测。归因方法改为测量对输出的影响，但它们同样依赖基线和路径。"
        "用这些视图来提出假设，然后通过改动输入来检验它。\n"
        "- **分支。** 每一步模型都会给每个词元一个概率；你看到的文字只是其中一条路径。点击另一个词元，"
        "看看那条路通向哪里，还可以在你探索过的路径树中随时返回。"),
    "why.model": ("Model", "模型"),
    "why.text": ("Text", "文本"),
    "why.text_value": ("The capital of France is", "The capital of France is"),
    "why.text_info": ("Language models continue it; a classifier fine-tuned in the app labels it.",
                      "语言模型会续写它；在本应用中微调的分类器会给它打标签。"),
    "why.tab.lens": ("What each layer predicts", "每一层在预测什么"),
    "why.tab.attr": ("Which words made it likely", "哪些词让它变得可能"),
    "why.tab.rollout": ("Attention rollout", "注意力展开"),
    "why.tab.branch": ("What if it picked another word?", "如果选了另一个词呢？"),
    "why.tab.compare": ("Two models side by side", "两个模型并排对比"),
    "why.kind_note.encoder": (
        "{model} is an encoder without a task head: it predicts nothing by itself, so the logit "
        "lens, attribution and branching do not apply to it. Attention rollout works; or "
        "fine-tune it in the Fine-tune tab and explain the classifier.",
        "{model} 是没有任务头的编码器：它本身不做预测，所以逻辑值透镜、归因和分支都不适用于它。"
        "注意力展开可以用；或者先在“微调”标签页里微调它，再解释得到的分类器。"),
    # ---- logit lens ----
    "why.lens_help": (
        "Rows are layers (the embeddings at the top, the last layer at the bottom), columns are "
        "positions: each cell is the top guess for the **next** token after that position, "
        "coloured by its probability. Hover for the top 5.",
        "行是层（最上面是嵌入，最下面是最后一层），列是位置：每个格子是该位置之后**下一个**词元的首选猜测，"
        "颜色表示它的概率。鼠标悬停可看前 5 名。"),
    "why.lens_run": ("Show what each layer predicts", "显示每一层的预测"),
    "why.lens_verify_ok": (
        "✅ Verified: the last layer through the lens gives the model's own output "
        "distribution (largest difference {diff}, {dtype}).",
        "✅ 已验证：最后一层经过透镜得到的分布就是模型自己的输出分布（最大差值 {diff}，{dtype}）。"),
    "why.lens_verify_bad": (
        "⚠️ The last layer through the lens differs from the model's output by {diff} "
        "({dtype}): this model computes its output in a way the lens does not know.",
        "⚠️ 最后一层经过透镜的结果与模型输出相差 {diff}（{dtype}）：这个模型计算输出的方式透镜并不了解。"),
    "why.lens_summary": (
        "After “{token}” the model predicts **“{final}”** ({p}). It is the top guess from layer "
        "**{layer}** of {layers} on.",
        "在“{token}”之后，模型预测 **“{final}”**（{p}）。从第 **{layer}** 层（共 {layers} 层）起它一直是首选。"),
    "why.lens_summary_late": (
        "After “{token}” the model predicts **“{final}”** ({p}). It becomes the top guess only "
        "in the last layer.",
        "在“{token}”之后，模型预测 **“{final}”**（{p}）。它直到最后一层才成为首选。"),
    "why.lens_classifier": (
        "{model} predicts **“{final}”** ({p}). Each row is that layer's first-token vector "
        "through the model's pooler and classifier.",
        "{model} 预测 **“{final}”**（{p}）。每一行是该层第一个词元的向量经过模型的池化层和分类器得到的结果。"),
    "why.lens_decoder_note": (
        "An encoder-decoder: the lens reads its decoder. The columns are the tokens {model} "
        "writes for this text.",
        "这是编码器-解码器模型：透镜读取的是它的解码器。列是 {model} 为这段文字写出的词元。"),
    "why.lens_column": ("Position for the curve", "曲线对应的位置"),
    "why.lens_emb": ("embeddings", "嵌入"),
    "why.lens_layer_n": ("layer {i}", "第 {i} 层"),
        "why.lens_positions": ("position (the token just read)", "位置（刚读到的词元）"),
    "why.lens_layers": ("layer", "层"),
    "why.lens_hover": ("%{customdata[1]}, after “%{customdata[2]}”:<br>%{customdata[0]}",
                       "%{customdata[1]}，在“%{customdata[2]}”之后：<br>%{customdata[0]}"),
    "why.lens_curve_title": ("When does “{token}” emerge? (after “{after}”)",
                             "“{token}”是从哪一层开始出现的？（在“{after}”之后）"),
    "why.lens_prob": ("probability of the final choice", "最终选择的概率"),
    "why.lens_rank": ("its rank (1 = top guess)", "它的名次（1 = 首选）"),
    # ---- attribution ----
    "why.attr_help": (
        "Pick what to explain: leave it empty for the model's own next token (or a "
        "classifier's predicted class), or type a continuation. To ask “why X and not Y”, click "
        "one of the model's other guesses below or type the alternative.",
        "选择要解释的内容：留空表示解释模型自己预测的下一个词元（或分类器预测的类别），也可以输入一段续写。"
        "想问“为什么是 X 而不是 Y”，点击下方模型的其他候选之一，或直接输入另一个选项。"),
    "why.target": ("Explain this output (empty: the model's own choice)",
                   "解释这个输出（留空：模型自己的选择）"),
    "why.contrast": ("…and not this one (optional)", "……而不是这个（可选）"),
    "why.method": ("Method", "方法"),
    "why.method.ig": ("integrated gradients", "积分梯度"),
    "why.method.grad_x_input": ("gradient × input", "梯度 × 输入"),
    "why.steps": ("Steps (integrated gradients)", "步数（积分梯度）"),
    "why.steps_est": (
        "{steps} steps ≈ {secs:.0f} s here (your last run took {per:.2f} s per step with "
        "{model}).",
        "{steps} 步 ≈ {secs:.0f} 秒（你上次用 {model} 运行时每步 {per:.2f} 秒）。"),
    "why.steps_est_none": (
        "{steps} steps ≈ {secs:.0f} s for SmolLM2 and a short text on a laptop CPU (about "
        "{per:.2f} s per step; a classifier is much faster).",
        "对 SmolLM2 和一小段文字，在笔记本 CPU 上 {steps} 步约需 {secs:.0f} 秒（每步约 {per:.2f} 秒；"
        "分类器快得多）。"),
    "why.attr_run": ("Explain", "解释"),
    "why.attr_summary": (
        "Explained: ln p(**“{target}”**) = {value:.3f} (probability {p}); with the baseline "
        "{base:.3f}.",
        "被解释的分数：ln p(**“{target}”**) = {value:.3f}（概率 {p}）；基线上为 {base:.3f}。"),
    "why.attr_summary_contrast": (
        "Explained: logit(**“{target}”**) − logit(**“{contrast}”**) = {value:.3f}; with the "
        "baseline {base:.3f}. Red words favour “{target}” over “{contrast}”, blue words the "
        "other way.",
        "被解释的分数：logit(**“{target}”**) − logit(**“{contrast}”**) = {value:.3f}；基线上为 {base:.3f}。"
        "红色的词让模型更偏向“{target}”而不是“{contrast}”，蓝色的词相反。"),
    "why.attr_summary_gxi": (
        "Explained: {score} = {value:.3f}, by gradient × input (one backward pass).",
        "被解释的分数：{score} = {value:.3f}，方法为梯度 × 输入（一次反向计算）。"),
    "why.attr_top": ("Largest push: “{token}” ({score:+.3f}).", "推动最大的词：“{token}”（{score:+.3f}）。"),
    "why.attr_complete": (
        "Completeness error **{err:.1%}** with {steps} steps ({secs:.1f} s): the scores add up "
        "to {total:.3f}; exactly computed they would add up to F(text) − F(baseline) = "
        "{diff:.3f}.",
        "完备性误差 **{err:.1%}**，{steps} 步（{secs:.1f} 秒）：这些分数加起来是 {total:.3f}；"
        "若精确计算，应当等于 F(文本) − F(基线) = {diff:.3f}。"),
    "why.attr_complete_ok": ("Under 5 %: the scores account for the change well.",
                             "低于 5%：这些分数很好地解释了这个变化。"),
    "why.attr_complete_bad": (
        "Above 5 %: the walk from the baseline was too coarse for this model and text; raise "
        "the steps (it takes longer) before trusting small differences.",
        "高于 5%：对这个模型和文本来说，从基线出发的步子太粗了；在相信细小差别之前，请增加步数（会更慢）。"),
    "why.attr_legend": (
        "Red: pushed the score up · blue: pushed it down · grey: special tokens (not words of "
        "the text, score 0). Hover a word for its number.",
        "红色：把分数往上推 · 蓝色：往下拉 · 灰色：特殊词元（不是文本中的词，分数为 0）。鼠标悬停可看数值。"),
    "why.attr_hover": ("score {score:+.4f}", "分数 {score:+.4f}"),
    "why.attr_fixed": ("special token, kept as it is (score 0)", "特殊词元，保持不变（分数 0）"),
    "why.attr_candidates": (
        "The model's top guesses at this step. **Click a row** to explain why the model "
        "preferred its choice over that one.",
        "模型在这一步的首选候选。**点击一行**，看看模型为什么更喜欢它的选择而不是那一个。"),
    "why.cand_cols": ("rank|token|probability", "名次|词元|概率"),
    # ---- rollout ----
    "why.roll_help": (
        "Left: one layer's attention averaged over its heads. Right: attention rollout up to "
        "that layer — how much of each token's vector comes from each input word, if "
        "information only flowed along the attention weights (plus the skip connection). Every "
        "row adds up to 1.",
        "左：某一层对所有头取平均后的注意力。右：到这一层为止的注意力展开——如果信息只沿着注意力权重"
        "（加上残差连接）流动，每个词元的向量有多少来自每个输入词。每一行加起来都等于 1。"),
    "why.roll_run": ("Show attention rollout", "显示注意力展开"),
    "why.roll_layer": ("Layer", "层"),
    "why.roll_raw_title": ("raw attention, layer {layer} (mean of the heads)",
                           "原始注意力，第 {layer} 层（各头平均）"),
    "why.roll_title": ("rollout, layers 0–{layer}", "展开，第 0–{layer} 层"),
    "why.roll_assume": (
        "Rollout assumes information moves only as attention says and that half of each "
        "vector is kept by the skip connection; it ignores the value vectors, the feed-forward "
        "layers and the norms. It is a picture of mixing, not of cause.",
        "展开假设信息只按注意力的指示流动，并且每个向量有一半被残差连接保留；它忽略了值向量、前馈层和归一化。"
        "它描绘的是混合，而不是因果。"),
    "why.roll_encoder_note": ("An encoder-decoder: this is the rollout of its encoder "
                              "(cross attention mixes two texts, so rollout does not apply to it).",
                              "这是编码器-解码器模型：这里是它编码器的展开（交叉注意力混合了两段文本，展开不适用于它）。"),
    "why.roll_hover": ("row “%{customdata[0]}” ← “%{customdata[1]}”<br>%{z:.4f}",
                       "行“%{customdata[0]}” ← “%{customdata[1]}”<br>%{z:.4f}"),
    # ---- branching ----
    "why.branch_help": (
        "The model continues the text with its own first choice at every step. Each row is a "
        "step with its 5 most likely tokens (▶ marks the one taken). **Click any other token** "
        "to continue from it; every path you open is kept in the tree below, with its "
        "probability — click a row of the tree to go back to it. Coming from Generate (its "
        "“Explore other words” button), the first path is the answer Generate wrote.",
        "模型每一步都用自己的首选续写文本。每一行是一步，列出最可能的 5 个词元（▶ 标出被选中的那个）。"
        "**点击任何其他词元**，就从它继续写下去；你打开的每条路径都保存在下面的树里，并附有它的概率——"
        "点击树中的一行即可回到那条路径。从“生成”标签页（它的“探索其他的词”按钮）过来时，"
        "第一条路径就是“生成”写出的回答。"),
    "why.branch_run": ("Continue the text", "续写文本"),
    "why.branch_cols": ("step|1st|2nd|3rd|4th|5th", "步|第 1|第 2|第 3|第 4|第 5"),
    "why.tree_label": ("Paths explored (a tree: each branch starts from its parent)",
                       "已探索的路径（一棵树：每个分支从它的父路径分出）"),
    "why.tree_cols": ("path|from path|branches at step|continuation|probability",
                      "路径|来自路径|在第几步分出|续写|概率"),
    "why.branch_text": ("**Path {id}** · probability of this continuation {p} · {n} tokens{ended}",
                        "**路径 {id}** · 这段续写的概率 {p} · {n} 个词元{ended}"),
    "why.branch_ended": (" · the model ended the text", " · 模型结束了文本"),
    "why.branch_root": ("—", "—"),
    "why.branch_outside": ("{step} · ▶ {token} · {p} (ranked {rank}, outside the top {k})",
                           "{step} · ▶ {token} · {p}（排第 {rank}，不在前 {k} 名里）"),
    "why.branch_generated": (
        " · the answer from Generate (each probability is the model's own, before temperature "
        "and the other sampling settings)",
        " · 来自“生成”标签页的回答（每个概率都是模型自己的，未经温度等采样设置调整）"),
    "why.branch_cut": ("Generate's answer has {n} tokens; its first {m} are shown here.",
                       "“生成”的回答有 {n} 个词元；这里显示前 {m} 个。"),
    "why.seed_other_model": (
        "Generate's last answer was written by a model with another vocabulary, so this path "
        "is this model's own continuation of the prompt.",
        "“生成”的上一个回答来自词表不同的模型，所以这条路径是当前模型自己对提示词的续写。"),
    "why.from_generate": ("Explore other words in this answer (Why this token?)",
                          "在这个回答里探索其他的词（为什么是这个词元？）"),
    # ---- side by side ----
    "why.cmp_help": (
        "Run two models on the same text. Good pairs: MiniLM and a classifier you fine-tuned "
        "from it (the same attention head before and after fine-tuning), or two language models "
        "(for example SmolLM2 and a tiny model you trained in Pre-training).",
        "让两个模型处理同一段文字。合适的组合：MiniLM 和你从它微调出来的分类器（微调前后的同一个注意力头），"
        "或两个语言模型（例如 SmolLM2 和你在“预训练”中训练的小模型）。"),
    "why.cmp_model_b": ("Second model", "第二个模型"),
    "why.cmp_layer": ("Attention layer", "注意力层"),
    "why.cmp_head": ("Attention head", "注意力头"),
    "why.cmp_run": ("Compare", "对比"),
    "why.cmp_pred_class": ("Prediction", "预测"),
    "why.cmp_pred_next": ("Next token", "下一个词元"),
    "why.cmp_steps": ("Its continuation, step by step (top 3 at each step)",
                      "它的续写，逐步显示（每步前 3 名）"),
    "why.cmp_attention": ("Attention: layer {layer}, head {head} (the model has {layers} × {heads})",
                          "注意力：第 {layer} 层、第 {head} 个头（该模型共 {layers} 层 × {heads} 个头）"),
    "why.cmp_attr": ("Which words made “{target}” likely (integrated gradients, completeness "
                     "error {err:.1%})", "哪些词让“{target}”变得可能（积分梯度，完备性误差 {err:.1%}）"),
    "why.cmp_lens": ("Logit lens: “{token}” is the top guess from layer {layer} of {layers} on.",
                     "逻辑值透镜：从第 {layer} 层（共 {layers} 层）起，“{token}”一直是首选。"),
    "why.cmp_lens_late": ("Logit lens: “{token}” becomes the top guess only in the last layer "
                          "({layers}).", "逻辑值透镜：“{token}”直到最后一层（第 {layers} 层）才成为首选。"),
    "why.cmp_missing.no_head": (
        "{part}: {model} has no task head, so it predicts nothing on its own — that is what "
        "fine-tuning adds.",
        "{part}：{model} 没有任务头，本身不做任何预测——这正是微调要加上的部分。"),
    "why.cmp_missing.not_lm": ("{part}: {model} does not write text.", "{part}：{model} 不会写文字。"),
    "why.cmp_missing.lm": ("{part}: for a language model, see “Which words made it likely”.",
                           "{part}：语言模型请看“哪些词让它变得可能”。"),
    "why.part.prediction": ("Prediction", "预测"),
    "why.part.steps": ("Continuation", "续写"),
    "why.part.attribution": ("Attribution", "归因"),
    "why.part.lens": ("Logit lens", "逻辑值透镜"),
    # ---- errors (English comes from the exception) ----
    "err.why_not_for_model": ("“{method}” does not apply to {name}. It needs a model that "
                              "predicts something: a decoder such as SmolLM2, a classifier "
                              "fine-tuned in the app, or an encoder-decoder (T5, BART).",
                              "“{method}”不适用于 {name}。它需要一个会做预测的模型：像 SmolLM2 这"
                              "样的解码器、在本应用中微调的分类器，或编码器-解码器（T5、BART）。"),
    "err.why_bad_steps": ("The number of steps must be a whole number from {low} to {high}.",
                          "步数必须是 {low} 到 {high} 之间的整数。"),
    "err.why_bad_method": ("Unknown method {method!r}; use one of {methods}.",
                           "未知的方法 {method!r}；请使用以下之一：{methods}。"),
    "err.why_unknown_class": ("This model has no class {label!r}; its classes are {classes}.",
                              "这个模型没有类别 {label!r}；它的类别是：{classes}。"),
    "err.why_same_contrast": ("The alternative is the same as what is explained; pick a "
                              "different one.",
                              "另一个选项与被解释的内容相同；请换一个。"),
    "err.why_bad_choices": ("Choices are ranks from 1 to {k}, one per step and at most {most} of "
                            "them, such as “1, 3” (1 = the most likely token).",
                            "选择是每一步的名次，从 1 到 {k}，最多 {most} 个，例如“1, 3”（1 = 最"
                            "可能的词元）。"),
    "err.why_no_result": ("Press the button above first: there is nothing to show yet.",
                          "请先点击上面的按钮：现在还没有可以显示的结果。"),
    # ---- notices ----
    "notice.why_cut": ("The text has {n} tokens; only the first {limit} are used "
                       "(explanations run the model many times).",
                       "文本有 {n} 个词元；只使用前 {limit} 个（解释需要多次运行模型）。"),
    "notice.why_lens_cut": ("The grid shows the last {limit} of {n} positions.",
                            "表格只显示 {n} 个位置中的最后 {limit} 个。"),
    "notice.why_first_token": ("“Why X and not Y” compares one token with one token: the first "
                               "token of each is used.",
                               "“为什么是 X 而不是 Y”比较的是一个词元与一个词元：各取第一个词元。"),
}
