"""LLM Explorer entry point: parse flags, build the one ModelManager, build the UI, launch.

    python app.py [--host 127.0.0.1] [--port 7860] [--device auto|cpu|cuda|mps]
                  [--memory-budget 4GB] [--cache-dir DIR] [--auth user:password]
                  [--share] [--lang auto|en|zh] [--hub auto|on|off]
                  [--engine-url http://HOST:PORT/v1 [--engine-model NAME] [--engine-key KEY]]

Models load lazily, so the page is served in seconds; telemetry and version checks are off.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
from pathlib import Path

MAX_UPLOAD = "50mb"   # the largest file a user may upload (Fine-tune reads up to 50 MB)


def hub_reachable(timeout: float = 2.0) -> bool:
    """A DNS lookup only (no connection), bounded by `timeout` so start-up never hangs."""
    result: list[bool] = []

    def lookup():
        try:
            socket.getaddrinfo("huggingface.co", 443)
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def decide_online(hub: str) -> bool:
    from models.core.environment import hub_disabled_by_user
    if hub == "off" or hub_disabled_by_user():
        return False
    return True if hub == "on" else hub_reachable()


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="app.py", description="LLM Explorer: see how LLMs work.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (0.0.0.0 serves a classroom network)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--memory-budget", default=None,
                   help="memory the loaded models may use, e.g. 4GB (default: half the device)")
    p.add_argument("--cache-dir", default=os.environ.get("LLM_EXPLORER_HOME",
                                                         str(Path.home() / ".cache" / "llm-explorer")),
                   help="converted weights, fine-tuned models, uploads and the model list")
    p.add_argument("--auth", default=None, help="require a login, as user:password")
    p.add_argument("--classroom", action="store_true",
                   help="a class: teachers and students log in with their own accounts (add "
                        "them with `python app.py users add NAME --role teacher|student`)")
    p.add_argument("--share", action="store_true",
                   help="make a public link through Gradio's tunnel (exposes the app; off by default)")
    p.add_argument("--lang", default="auto", choices=["auto", "en", "zh"],
                   help="interface language (auto: the browser's)")
    p.add_argument("--hub", default="auto", choices=["auto", "on", "off"],
                   help="use the Hugging Face Hub for models not on disk (auto: if reachable)")
    p.add_argument("--engine-url", default=None,
                   help="an OpenAI-compatible server (vLLM, SGLang, llama.cpp, transformers "
                        "serve), e.g. http://127.0.0.1:8000/v1: generation and the applications "
                        "can run there (models/runners/engine.py)")
    p.add_argument("--engine-model", default=None,
                   help="the model id to ask the engine for (default: the first it lists)")
    p.add_argument("--engine-key", default=os.environ.get("LLM_EXPLORER_ENGINE_KEY"),
                   help="API key of the engine, if it needs one (or LLM_EXPLORER_ENGINE_KEY)")
    args = p.parse_args(argv)
    if args.auth and ":" not in args.auth:
        p.error("--auth must look like user:password")
    if args.engine_url and not args.engine_url.startswith(("http://", "https://")):
        p.error("--engine-url must look like http://HOST:PORT/v1")
    return args


def build(args: argparse.Namespace):
    """Everything but the server: (demo, manager, jobs). Tests and benchmarks use this too."""
    from models.core.environment import quiet_environment
    online = decide_online(args.hub)
    quiet_environment(offline=not online)      # before gradio / huggingface_hub are imported
    from models.core.device import parse_bytes, pick_device
    from models.core.jobs import JobRunner
    from models.core.manager import ModelManager
    from models.core.registry import Registry
    from webapp.ui import build_app

    device = pick_device(args.device)
    registry = Registry(Path(args.cache_dir).expanduser(), online=online)
    manager = ModelManager(registry, device, parse_bytes(args.memory_budget))
    if getattr(args, "engine_url", None):
        from models.runners.engine import Engine
        if manager.attach_engine(Engine(args.engine_url, args.engine_model, args.engine_key)) is None:
            print(f"warning: the engine at {args.engine_url} cannot be reached now; restart "
                  "when it runs, or name its model with --engine-model", file=sys.stderr)
    # jobs live in the cache folder's store: after a restart the ones cut off are listed as
    # interrupted and can be resumed from their checkpoints (models/training/resume.py)
    from models.training.resume import register_all
    jobs = JobRunner(device.kind, store=registry.store)     # one store per process, shared
    register_all(jobs, manager)
    classroom = None
    if getattr(args, "classroom", False):
        from models.core.accounts import Accounts
        from webapp.access import Classroom
        accounts = Accounts(registry.cache_dir, store=registry.store)
        classroom = Classroom(accounts, manager, jobs)
    demo = build_app(manager, jobs, lang=args.lang, classroom=classroom)
    demo.classroom = classroom     # launch() takes its login check from here
    return demo, manager, jobs


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["users"]:         # python app.py users add|remove|list ... (classroom logins)
        from cli.users import main as users
        return users(argv[1:], parse_args([]).cache_dir)
    args = parse_args(argv)
    try:
        demo, manager, _jobs = build(args)
    except ValueError as exc:  # bad --device / --memory-budget
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"LLM Explorer · {manager.device.describe()} · memory budget "
          f"{manager.budget_bytes / 1e9:.1f} GB · Hub {'on' if manager.registry.online else 'off'}")
    if args.share:
        print("WARNING: --share makes this app reachable by anyone with the link, through "
              "Gradio's tunnel. Use --auth user:password with it.", file=sys.stderr)
    launch(demo, args)
    return 0


def launch(demo, args: argparse.Namespace, **extra) -> None:
    """Queue and serve `demo` with the app's settings (the tests start the app through this
    too, so the queue size, upload limit and error display they see are the real ones)."""
    from webapp.ui import calm_queue, launch_kwargs
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    classroom = getattr(demo, "classroom", None)
    if classroom is not None:          # --classroom: each person's own login (webapp/access.py)
        auth = classroom.auth
        if not classroom.accounts.users():
            print("warning: --classroom has no logins yet; add a teacher with "
                  "`python app.py users add NAME --role teacher`", file=sys.stderr)
    demo.queue(default_concurrency_limit=1, max_size=256)
    calm_queue(demo)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth,
                show_error=True, max_file_size=MAX_UPLOAD, **launch_kwargs(), **extra)


if __name__ == "__main__":
    sys.exit(main())
