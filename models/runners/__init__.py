"""Runners: inference computations the tabs show, each split into prepare -> run ->
post-process and returning typed dataclass results (never Gradio objects).

The "Why this token?" runners live here:
  parts.py         where each model family keeps its layers, final norm, output layer and
                   input embeddings (read from models/core/families.py), and how a text is encoded
                   for an explanation
  logit_lens.py    every layer's residual stream through the final norm and output layer
  attribution.py   integrated gradients and gradient x input on the input embeddings (Captum),
                   single target or contrastive logit(X) - logit(Y)
  rollout.py       attention rollout (Abnar & Zuidema 2020) beside raw attention
  branching.py     step-by-step continuation with the top-k alternatives at every step
  side_by_side.py  two models on the same input
"""
