"""The process environment the app, its tests and its benchmarks run in, set in one place.

Must run before gradio or huggingface_hub are imported: they read these variables at import.
Telemetry and version checks are always off; `offline=True` also stops every Hub lookup.
"""
from __future__ import annotations

import os

QUIET = {"GRADIO_ANALYTICS_ENABLED": "False",    # no analytics or version check from Gradio
         "HF_HUB_DISABLE_TELEMETRY": "1",        # no telemetry from the Hub client
         "TOKENIZERS_PARALLELISM": "false"}      # no fork warnings from tokenizers' threads
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def quiet_environment(offline: bool = False) -> None:
    """Set the variables (a value the user set already is kept, except that offline wins)."""
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    if offline:
        os.environ.update(OFFLINE)


def hub_disabled_by_user() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
