"""The classroom server (python app.py --classroom), driven like a class would: the real app,
logins through gradio_client and plain HTTP. Every endpoint needs a login; a student never
reaches another student's job or model (the answer is the same as for an id that does not
exist); teacher actions are refused to students; limits say when to try again; names are
shown as text; the users file is never served; a browser that goes away frees the device
while a training job goes on."""
from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest

from models.core.accounts import Limits
from tests.classroom import PASSWORDS, classroom_app  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

TINY = ["english", None, "NAME", 1, 16, 1, 8, 300, 2, 0.003, 30, 30, "", 0]   # pretrain_start


def tiny(name: str, steps: int = 30, lang: str = "en") -> list:
    args = list(TINY)
    args[2], args[10], args[11] = name, steps, steps
    return args + [lang]


def error_of(client, api_name: str, *args) -> str:
    with pytest.raises(Exception) as err:
        client.predict(*args, api_name=api_name)
    return str(err.value)


def login(url: str, name: str, password: str) -> httpx.Client:
    http = httpx.Client(base_url=url, timeout=60)
    reply = http.post("/login", data={"username": name, "password": password})
    assert reply.status_code == 200, reply.text
    return http


def owned_by(app, name: str) -> list:
    return [s for s in app.manager.registry.all() if s.owner == name]


@pytest.fixture(scope="module")
def room(classroom_app):  # noqa: F811
    yield classroom_app
    classroom_app.accounts.set_limits(Limits())


def test_every_endpoint_needs_a_login(room):
    from gradio_client import Client
    with pytest.raises(Exception, match="(?i)login|credentials"):
        Client(room.url, verbose=False)
    names = list(room.client("tess").view_api(return_format="dict", print_info=False)
                 ["named_endpoints"])
    assert len(names) > 20 and "/generate" in names and "/teacher_overview" in names
    anonymous = httpx.Client(base_url=room.url, timeout=30)
    for name in names:
        reply = anonymous.post(f"/gradio_api/call{name}", json={"data": []})
        assert reply.status_code in (401, 403), (name, reply.status_code, reply.text[:200])
    for path in ("/config", "/gradio_api/info", "/gradio_api/queue/data?session_hash=x"):
        assert anonymous.get(path).status_code in (401, 403), path
    with pytest.raises(Exception, match="(?i)credentials|login|incorrect"):
        Client(room.url, auth=("amy", "not her password"), verbose=False)


def test_the_users_file_is_never_served(room):
    http = login(room.url, "tess", PASSWORDS["tess"])
    db = room.accounts.path
    for path in (f"/gradio_api/file={db}", f"/file={db}", f"/gradio_api/file={db.parent}/../"
                 f"{db.parent.name}/{db.name}", "/gradio_api/file=classroom.sqlite3"):
        reply = http.get(path)
        assert reply.status_code != 200 or b"argon2" not in reply.content, path
        assert b"$argon2" not in reply.content


def test_a_student_cannot_call_teacher_actions(room):
    amy = room.client("amy")
    before = room.accounts.limits()
    calls = [("/teacher_overview", "en"), ("/teacher_cancel_job", "x", "en"),
             ("/teacher_limits", 1000, 9, 500, 999, 50, "en"), ("/teacher_pause", True, "en"),
             ("/teacher_models", ["smollm2"], "en"), ("/teacher_publish", "smollm2", "en"),
             ("/teacher_add_users", "mallory", None, "teacher", "en"),
             ("/teacher_remove_user", "tess", "en"),
             ("/load_model", "smollm2", "en"), ("/unload_model", "smollm2", "en"),
             ("/add_model", "/etc", "en"), ("/delete_model", "smollm2", "en")]
    for api_name, *args in calls:
        assert "Only a teacher can do this" in error_of(amy, api_name, *args), api_name
    assert "只有教师" in error_of(amy, "/teacher_limits", 1000, 9, 500, 999, 50, "zh")
    assert room.accounts.limits() == before and room.accounts.role("mallory") is None
    assert room.accounts.role("tess") == "teacher" and not room.jobs.paused
    # a server folder cannot be probed: the same answer for a system folder and a missing one
    assert error_of(amy, "/add_model", "/etc", "en") == error_of(amy, "/add_model", "/nope", "en")
    # and a teacher can
    assert "Connected" in room.client("tess").predict("en", api_name="/teacher_overview")[0]


def test_students_never_reach_each_others_jobs_and_models(room):
    amy, bob, tess = room.client("amy"), room.client("bob"), room.client("tess")
    missing_job = "pretrain-" + uuid.uuid4().hex[:10]
    # bob's long job: amy cannot follow or stop it, a teacher sees and stops it
    long_id = bob.predict(*tiny("bob-long", steps=5000), api_name="/pretrain_start")
    assert re.fullmatch(r"pretrain-[0-9a-f]{10}", long_id)
    again = error_of(bob, "/pretrain_start", *tiny("bob-second"))        # one job at a time
    assert "the class limit" in again and long_id in again
    for api in ("/pretrain_status", "/pretrain_stop"):
        theirs = error_of(amy, api, long_id, "en")
        none = error_of(amy, api, missing_job, "en")
        assert "There is no job" in theirs
        assert theirs == none.replace(missing_job, long_id)            # no hint that it exists
    assert amy.predict(api_name="/my_jobs") == []
    assert [j["job_id"] for j in bob.predict(api_name="/my_jobs")] == [long_id]
    assert room.jobs.snapshot(long_id).status in ("queued", "running")
    overview = tess.predict("en", api_name="/teacher_overview")
    assert long_id in overview[2] and "bob" in overview[2]
    assert "stop" in tess.predict(long_id, "en", api_name="/teacher_cancel_job")
    assert room.jobs.wait(long_id, timeout=120).status == "cancelled"

    # bob's finished model: amy gets "no such model" for it, exactly as for a missing one
    job_id = bob.predict(*tiny("bob-model"), api_name="/pretrain_start")
    assert room.jobs.wait(job_id, timeout=300).status == "done"
    [spec] = [s for s in owned_by(room, "bob") if s.name == "bob-model"]
    assert "/u-bob-" in spec.location                            # saved in bob's own folder
    nothing = "local:no-such-model"
    for api, args in (("/finetune_zip", [spec.key, "en"]),
                      ("/finetune_compare", [spec.key, "some text", "en"]),
                      ("/classify", ["some text", spec.key, "en"]),
                      ("/token_surprisal", [spec.key, "Some text to read.", "en"]),
                      ("/generate", [spec.key, "Hello", False, 4, 0.7, 50, 0.95, True, 0,
                                     "en"])):
        theirs = error_of(amy, api, *args)
        none = error_of(amy, api, *[nothing if a == spec.key else a for a in args])
        assert "There is no model called" in theirs, (api, theirs)
        assert theirs == none.replace(nothing, spec.key), api
    assert spec.key not in json.dumps(amy.predict(api_name="/models_status"))
    # bob uses his own model; published by the teacher, amy can use it too
    read = ["The cat sat on the mat.", "en"]
    assert bob.predict(spec.key, *read, api_name="/token_surprisal")
    assert "visible to the whole class" in tess.predict(spec.key, "en",
                                                        api_name="/teacher_publish")[0]
    assert amy.predict(spec.key, *read, api_name="/token_surprisal")
    tess.predict(spec.key, "en", api_name="/teacher_unpublish")
    assert "There is no model called" in error_of(amy, "/token_surprisal", spec.key, *read)


def test_the_allow_list_limits_the_models_students_use(room):
    tess, amy = room.client("tess"), room.client("amy")
    try:
        assert "1" in tess.predict(["minilm"], "en", api_name="/teacher_models")
        status = json.dumps(amy.predict(api_name="/models_status"))
        assert '"minilm"' in status and '"smollm2"' not in status
        text = error_of(amy, "/token_surprisal", "smollm2", "Some text.", "en")
        assert "has not opened SmolLM2-135M-Instruct" in text
        assert "老师还没有" in error_of(amy, "/token_surprisal", "smollm2", "Some text.", "zh")
        assert '"smollm2"' in json.dumps(tess.predict(api_name="/models_status"))  # teacher: all
    finally:
        room.accounts.set_allowed_models(None)


def test_over_the_limit_says_when_to_try_again(room, tmp_path):
    tess, amy = room.client("tess"), room.client("李雷")        # a student with no runs yet
    tess.predict(2, 1, 1, 15, 0, "en", api_name="/teacher_limits")
    try:
        for _ in range(2):
            amy.predict("minilm", "A cat.\nA dog.\nA car.", None, "pca", None, "en",
                        api_name="/embed")
        text = error_of(amy, "/embed", "minilm", "A cat.\nA dog.", None, "pca", None, "zh")
        assert re.search(r"请在 \d+ 秒后再试", text), text
        text = error_of(amy, "/embed", "minilm", "A cat.\nA dog.", None, "pca", None, "en")
        match = re.search(r"Try again in (\d+) seconds", text)
        assert match and 1 <= int(match.group(1)) <= 60, text
        # the teacher is not limited
        for _ in range(3):
            tess.predict("minilm", "A cat.\nA dog.\nA car.", None, "pca", None, "en",
                         api_name="/embed")
        # an upload over the class limit (1 MB)
        from gradio_client import handle_file
        big = tmp_path / "sentences.txt"
        big.write_text("A sentence about cats.\n" * 60_000, encoding="utf-8")
        room.accounts.set_limits(Limits(100, 1, 1, 15))
        text = error_of(amy, "/embed", "minilm", "", handle_file(str(big)), "pca", None, "en")
        assert "the class limit is 1 MB" in text, text
    finally:
        room.accounts.set_limits(Limits())


def test_path_names_stay_inside_the_students_folder(room):
    amy = room.client("amy")
    job_id = amy.predict(*tiny("../../../../../tmp/escape"), api_name="/pretrain_start")
    assert room.jobs.wait(job_id, timeout=300).status == "done"
    [spec] = [s for s in owned_by(room, "amy")]
    root = (room.cache / "pretrained").resolve()
    assert root in __import__("pathlib").Path(spec.location).resolve().parents
    assert "/u-amy-" in spec.location and ".." not in spec.location
    # a server path given as an uploaded file is refused, its content never read back
    http = login(room.url, "amy", PASSWORDS["amy"])
    data = tiny("x")
    data[1] = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}
    event = http.post("/gradio_api/call/pretrain_start", json={"data": data}).json()["event_id"]
    reply = http.get(f"/gradio_api/call/pretrain_start/{event}").text
    assert "event: error" in reply and "root:" not in reply
    assert room.jobs.jobs() == [] or all(j.owner != "amy" or j.id == job_id
                                         for j in room.jobs.jobs())


def test_html_in_user_names_is_shown_as_text(room):
    tess = room.client("tess")
    name = "<img src=x onerror=alert(1)>"
    shown, _file, users = tess.predict(name, None, "student", "en",
                                       api_name="/teacher_add_users")
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown and "<img" not in shown
    assert "<img" not in users
    password = re.search(r"<td>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</td>", shown).group(1)
    from gradio_client import Client
    evil = Client(room.url, auth=(name, password), verbose=False)
    evil.predict("evil's own password", "evil's own password", "en",
                 api_name="/change_password")                      # a one-time password
    evil.predict(api_name="/my_jobs")
    people = tess.predict("en", api_name="/teacher_overview")[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in people and "<img" not in people
    assert "removed" in tess.predict(name, "en", api_name="/teacher_remove_user")[0].lower()
    assert "log in again" in error_of(evil, "/my_jobs")


def test_five_wrong_passwords_slow_the_login_down(room):
    room.accounts.add("carl", "carl-pass-1", "student")
    http = httpx.Client(base_url=room.url, timeout=30)
    for _ in range(5):
        assert http.post("/login", data={"username": "carl", "password": "guess"}).status_code \
            == 400
    reply = http.post("/login", data={"username": "carl", "password": "carl-pass-1"})
    assert reply.status_code == 400                 # even the right password waits now
    assert room.accounts.seconds_locked("carl") > 20


def _events(stream):
    for line in stream.iter_lines():
        if line.startswith("data:"):
            yield json.loads(line[5:])


def test_a_closed_browser_frees_the_device_and_a_training_job_goes_on(room):
    """Generation: the page's connection closes mid-answer -> the model stops and the device
    is free again well before the answer would have ended. Training: the job goes on, and
    the student finds it again after logging in anew."""
    bob = room.client("bob")
    job_id = bob.predict(*tiny("bob-goes-on", steps=150), api_name="/pretrain_start")
    del bob                                             # bob's training client goes away
    http = login(room.url, "amy", PASSWORDS["amy"])
    deps = http.get("/config").json()["dependencies"]
    fn_index = next(d["id"] for d in deps if d.get("api_name") == "generate")
    session = uuid.uuid4().hex[:11]
    prompt = "Count from 1 to 1000, writing every number, separated by commas."
    http.post("/gradio_api/queue/join", json={
        "data": ["smollm2", prompt, True, 1024, 0.7, 50, 0.95, True, 0, "en"],
        "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None})
    stats = None
    with http.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for msg in _events(stream):
            if msg.get("msg") == "process_generating":
                line = json.dumps(msg["output"].get("data", ""), ensure_ascii=False)
                found = re.search(r"(\d+) tokens[^\d]+([\d.]+) s[^\d]+([\d.]+) tokens/s", line)
                if found and int(found.group(1)) >= 10:
                    stats = [float(x) for x in found.groups()]
                    break
            assert msg.get("msg") != "process_completed", msg
    assert stats, "the generation never streamed"
    closed = time.monotonic()
    while room.manager.scheduler.running() is not None and \
            room.manager.scheduler.running()[1] == "generate":
        time.sleep(0.1)
        assert time.monotonic() - closed < 120
    freed_after = time.monotonic() - closed
    tokens, _secs, tps = stats
    left = (1024 - tokens) / tps                       # what the answer still needed
    print(f"device freed {freed_after:.1f} s after the disconnect; the answer needed {left:.0f} s more")
    assert freed_after < left / 2, (freed_after, left)
    # the training job went on; bob finds it again after logging in anew
    again = room.client("bob")
    mine = {j["job_id"]: j for j in again.predict(api_name="/my_jobs")}
    assert job_id in mine and mine[job_id]["status"] in ("queued", "running", "done")
    final = room.jobs.wait(job_id, timeout=600)
    assert final.status == "done", final.error
    assert again.predict(job_id, "en", api_name="/pretrain_status")[3]["status"] == "done"


def test_a_one_time_password_must_be_changed_first(room):
    from gradio_client import Client
    tess = room.client("tess")
    shown = tess.predict("nina", None, "student", "en", api_name="/teacher_add_users")[0]
    one_time = re.search(r"<td>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</td>", shown).group(1)
    nina = Client(room.url, auth=("nina", one_time), verbose=False)
    # nothing but choosing a password: model runs, lists and jobs are refused, in her language
    for api, args in (("/generate", ["smollm2", "Hi", False, 2, 0.7, 50, 0.95, True, 0, "en"]),
                      ("/my_jobs", []), ("/models_status", ["en"]),
                      ("/pretrain_start", tiny("nina-model"))):
        assert "Choose your own password first" in error_of(nina, api, *args), api
    assert "请先设置你自己的密码" in error_of(nina, "/token_surprisal", "smollm2", "Hi.", "zh")
    assert "two passwords differ" in error_of(nina, "/change_password", "nina's password",
                                              "nina's pasword", "en")
    assert "different from the one-time" in error_of(nina, "/change_password", one_time,
                                                     one_time, "en")
    assert "8 个字符" in error_of(nina, "/change_password", "short", "short", "zh")
    done = nina.predict("nina's password", "nina's password", "en", api_name="/change_password")
    assert "new password is saved" in json.dumps(done)
    assert nina.predict(api_name="/my_jobs") == []                    # now she may
    assert not room.accounts.must_change("nina")
    with pytest.raises(Exception, match="(?i)credentials|login|incorrect"):
        Client(room.url, auth=("nina", one_time), verbose=False)      # the old one is gone
    Client(room.url, auth=("nina", "nina's password"), verbose=False).predict(api_name="/my_jobs")
    tess.predict("nina", "en", api_name="/teacher_remove_user")


def test_a_job_over_the_step_limit_stops_and_keeps_its_model(room):
    tess, amy = room.client("tess"), room.client("amy")
    tess.predict(20, 1, 20, 15, 12, "en", api_name="/teacher_limits")
    try:
        job_id = amy.predict(*tiny("amy-step-limit", steps=5000), api_name="/pretrain_start")
        job = room.jobs.wait(job_id, timeout=600)
    finally:
        room.accounts.set_limits(Limits())
    assert job.status == "cancelled" and job.steps == 12, (job.status, job.steps, job.error)
    [notice] = [e for e in job.events if e.get("code") == "training_step_limit"]
    assert notice["params"] == {"steps": 12}
    assert [s for s in owned_by(room, "amy") if s.name == "amy-step-limit"]   # the model is kept
    for lang, words in (("en", "class limit of 12 training steps"), ("zh", "12 步的训练上限")):
        status = json.dumps(amy.predict(job_id, lang, api_name="/pretrain_status"),
                            ensure_ascii=False)
        assert words in status, status[:2000]


def test_my_jobs_lists_stops_only_ones_own(room):
    amy, bob = room.client("amy"), room.client("bob")
    job_id = bob.predict(*tiny("bob-my-jobs", steps=5000), api_name="/pretrain_start")
    try:
        assert job_id in [j["job_id"] for j in bob.predict(api_name="/my_jobs")]
        assert job_id not in json.dumps(amy.predict(api_name="/my_jobs"))
        theirs = error_of(amy, "/my_job_stop", job_id, "en")
        assert "There is no job" in theirs
        assert room.jobs.snapshot(job_id).status in ("queued", "running")
        stopped = bob.predict(job_id, "zh", api_name="/my_job_stop")
        assert "已请求停止" in stopped[0] and job_id in stopped[0]
        assert room.jobs.wait(job_id, timeout=300).status == "cancelled"
        assert "已经结束" in bob.predict(job_id, "zh", api_name="/my_job_stop")[0]
    finally:
        room.jobs.cancel(job_id)


def test_uploads_go_to_the_students_own_folder(room, tmp_path):
    from gradio_client import handle_file
    amy = room.client("amy")
    mine = tmp_path / "amy-sentences.txt"
    mine.write_text("A cat sat.\nA dog ran.\nThe car is red.\n", encoding="utf-8")
    amy.predict("minilm", "", handle_file(str(mine)), "pca", None, "en", api_name="/embed")
    [copy] = list(room.cache.glob("uploads/u-amy-*/*/amy-sentences.txt"))
    assert copy.read_text(encoding="utf-8") == mine.read_text(encoding="utf-8")
    address = next(k[1] for k in room.demo.classroom._uploads if k[0] == "amy")
    assert not __import__("os").path.exists(address)          # gone from the shared folder
    bob = login(room.url, "bob", PASSWORDS["bob"])
    for path in (f"/gradio_api/file={address}", f"/gradio_api/file={copy}"):
        assert b"A dog ran" not in bob.get(path).content, path
