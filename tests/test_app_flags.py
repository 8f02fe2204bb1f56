"""app.py's command line: defaults, refusals with a message, and no network when offline."""
from __future__ import annotations

import pytest

import app


def test_defaults_are_local_and_private():
    args = app.parse_args([])
    assert (args.host, args.port, args.device, args.share, args.auth) == \
        ("127.0.0.1", 7860, "auto", False, None)


def test_bad_flags_are_refused_with_a_message(capsys, tmp_path):
    with pytest.raises(SystemExit):
        app.parse_args(["--auth", "no-colon"])
    assert "--auth must look like user:password" in capsys.readouterr().err
    assert app.main(["--memory-budget", "lots", "--cache-dir", str(tmp_path)]) == 2
    assert "write it like 4GB" in capsys.readouterr().err


def test_offline_environment_means_no_hub_lookup(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(app, "hub_reachable", lambda *a: pytest.fail("looked up the Hub"))
    assert app.decide_online("auto") is False
    assert app.decide_online("on") is False        # the environment wins: tests never go online


def test_the_queue_polls_calmly_while_idle():
    """launch() slows gradio's idle polling (webapp/ui.py calm_queue): these attributes must
    still exist in the installed gradio, or the setting silently does nothing."""
    import gradio as gr

    from webapp.ui import PROGRESS_POLL_S, QUEUE_POLL_S, calm_queue
    with gr.Blocks() as demo:
        gr.Markdown("x")
    demo.queue()
    queue = demo._queue
    assert queue.sleep_when_free < QUEUE_POLL_S          # gradio's own, before
    calm_queue(demo)
    assert (queue.sleep_when_free, queue.progress_update_sleep_when_free) == \
        (QUEUE_POLL_S, PROGRESS_POLL_S)
