"""User-visible strings of the serving engine (app.py --engine-url, models/runners/engine.py):
the "answered by" line under Generate's output and the engine's error messages."""

STRINGS: dict[str, tuple[str, str]] = {
    "engine.by_engine": ("Answered by the serving engine at {url} (model {model}).",
                         "由服务引擎 {url} 回答（模型 {model}）。"),
    "engine.by_local": ("Answered by this app's own PyTorch worker on {device}.",
                        "由本应用自己的 PyTorch 进程在 {device} 上回答。"),
    "engine.missing": ("This server does not give: {what}.", "这个服务器不提供：{what}。"),
    "engine.missing.logprobs": ("token probabilities (so the next-token view stays empty)",
                                "词元概率（所以“下一个词元的概率”为空）"),
    "engine.missing.prompt_logprobs": ("the prompt's token probabilities",
                                       "提示词中各词元的概率"),
    "engine.missing.sampling": ("top-k and the repetition penalty (only temperature and top-p "
                                "are sent)", "top-k 和重复惩罚（只发送温度和 top-p）"),
    "engine.local_only": ("Attention, hidden states, gradients and training always run in this "
                          "app.", "注意力、隐藏状态、梯度和训练总是在本应用中运行。"),
    "engine.surprisal_local": ("Surprisal was computed by this app's own PyTorch worker on "
                               "{device}, not by the serving engine at {url}: {why}",
                               "意外度由本应用自己的 PyTorch 进程在 {device} 上计算，而不是由服务引擎 {url} "
                               "计算：{why}"),
    "engine.surprisal_no_prompt": ("that server does not give the prompt's token probabilities "
                                   "(no echo, no prompt_logprobs).",
                                   "那个服务器不提供提示词中各词元的概率（没有 echo，也没有 prompt_logprobs）。"),
    "engine.surprisal_top": ("this view needs every token's top 10 and rank, which only the "
                             "app's own model gives.",
                             "这个视图需要每个词元的前 10 个候选和排名，只有本应用自己的模型能提供。"),
    "engine.surprisal_unreachable": ("the server cannot be reached now.",
                                     "现在无法连接那个服务器。"),
    # errors (English: the message from models/runners/engine.py)
    "err.engine_unreachable": ("The engine at {url} cannot be reached. Check that the server is "
                               "running and the address is right, or pick one of the app's own "
                               "models.",
                               "无法连接服务引擎 {url}。请检查服务器是否在运行、地址是否正确，或"
                               "者选择本应用自己的模型。"),
    "err.engine_timeout": ("The engine at {url} did not answer in time. It may be busy or the "
                           "request too long; try again, or ask for fewer tokens.",
                           "服务引擎 {url} 没有及时回答。它可能很忙，或者请求太长；请重试，或者少"
                           "生成一些词元。"),
    "err.engine_http": ("The engine at {url} refused the request (HTTP {status}): {detail}",
                        "服务引擎 {url} 拒绝了这个请求（HTTP {status}）：{detail}"),
    "err.engine_no_model": ("The engine at {url} does not serve {model!r}; it serves: {models}. "
                            "Start the app with --engine-model set to one of them.",
                            "服务引擎 {url} 没有提供 {model!r}；它提供的是：{models}。请用 "
                            "--engine-model 选择其中一个重新启动应用。"),
    "err.engine_too_long": ("The prompt is too long for the engine's context window, so it was "
                            "cut. Paste a shorter text.",
                            "提示词对服务引擎的上下文窗口来说太长，被截断了。请粘贴短一些的文本。"),
    "err.engine_only": ("{name} runs on the serving engine, which gives text and token "
                        "probabilities only. Attention, hidden states, gradients and training "
                        "need one of the app's own models: pick SmolLM2.",
                        "{name} 运行在服务引擎上，它只提供文本和词元概率。注意力、隐藏状态、梯度"
                        "和训练需要本应用自己的模型：请选择 SmolLM2。"),
}
