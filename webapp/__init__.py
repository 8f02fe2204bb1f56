"""LLM Explorer's Gradio front end: one file per tab, thin handlers over models/."""
