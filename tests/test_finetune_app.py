"""The Fine-tune tab's API through gradio_client, on a tiny BERT registered in the app's data
dir: start a job, follow it, classify with the result, stop, and bad input as clear errors."""
from __future__ import annotations

import time

import pytest

from models.core.registry import Registry
from tests.test_finetune import separable
from tests.messages import english


@pytest.fixture(scope="module")
def served(tiny_models, tmp_path_factory):
    import socket

    import app
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = tmp_path_factory.mktemp("ft-app")
    key = Registry(cache, online=False).add_local(str(tiny_models["bert"]), name="tiny-bert").key
    args = app.parse_args(["--hub", "off", "--lang", "en", "--cache-dir", str(cache),
                           "--port", str(port)])
    demo, manager, jobs = app.build(args)
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=True, quiet=True,
                max_file_size="50mb")
    from gradio_client import Client
    client = Client(f"http://127.0.0.1:{args.port}", verbose=False)
    yield client, key, cache, manager
    demo.close()


def start(client, path, key, **over):
    from gradio_client import handle_file
    kw = dict(path=handle_file(str(path)), text_c="sentence", label_c="y", base_key=key,
              n_epochs=6, rate="1e-2", batch_size=8, length=32, val=25, seed_value=1,
              only_head=False, model_name="../../api model", lang="en")
    kw.update(over)
    return client.predict(*kw.values(), api_name="/finetune_start")


def wait(client, job_id, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = client.predict(job_id, "en", api_name="/finetune_status")
        if st["status"] in ("done", "failed", "cancelled"):
            return st
        time.sleep(0.3)
    raise AssertionError("job did not finish")


def test_start_status_classify_and_stop(served, tmp_path):
    client, key, cache, manager = served
    data = separable()
    csv = tmp_path / "d.csv"
    csv.write_text("sentence,y\n" + "\n".join(f"{t},{l}" for t, l in zip(data.texts, data.labels)))
    job_id = start(client, csv, key)
    assert job_id.startswith("finetune-")
    st = wait(client, job_id)
    assert st["status"] == "done", st["error"]
    assert len(st["epochs"]) == 6 and st["steps"][-1]["loss"] < st["steps"][0]["loss"]
    result = st["result"]
    assert result["report"]["accuracy"] >= 0.9
    saved = list((cache / "finetuned").iterdir())
    assert [p.name for p in saved] == ["api-model"]                     # inside the data dir
    probs = client.predict("paris is the capital of france", result["key"], "en", api_name="/classify")
    assert set(probs) == {"animal", "city"} and probs["city"] > 0.5
    assert "finished" in client.predict(job_id, "en", api_name="/finetune_stop")
    assert any(s.key == result["key"] for s in Registry(cache, online=False).all())  # after restart


@pytest.mark.parametrize("over, words", [
    ({"label_c": "nope"}, "nope"),
    ({"rate": "fast"}, "learning_rate"),
    ({"base_key": "no-such-model"}, "no-such-model"),
    ({"val": 90}, "50"),                       # the slider refuses it
])
def test_bad_requests_get_clear_messages(served, tmp_path, over, words):
    client, key, _cache, _manager = served
    data = separable(4)
    csv = tmp_path / "d.csv"
    csv.write_text("sentence,y\n" + "\n".join(f"{t},{l}" for t, l in zip(data.texts, data.labels)))
    try:
        job_id = start(client, csv, key, **over)
    except Exception as exc:                        # gradio_client raises AppError with the text
        assert words in str(exc) and "Traceback" not in str(exc)
        return
    st = wait(client, job_id)                       # errors found in the job show as its error
    assert st["status"] == "failed" and words in st["error"]


def test_unknown_job_and_wrong_model_are_explained(served):
    client, key, _cache, _manager = served
    with pytest.raises(Exception) as err:
        client.predict("finetune-nothere", "en", api_name="/finetune_status")
    assert "finetune-nothere" in english(err.value)
    with pytest.raises(Exception) as err:
        client.predict("hello", key, "en", api_name="/classify")
    assert "classification head" in english(err.value)
