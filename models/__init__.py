"""LLM Explorer's model library: devices, the model registry, the shared model manager,
and the computations the tabs show. Importable and testable without Gradio."""
