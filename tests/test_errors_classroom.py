"""Every error of the classroom (accounts, the gate in webapp/access.py, the Teacher tab), in
English and Chinese. The CASES go through the running --classroom app as the user named in
AS (tests/classroom.py); the DIRECT_CODES are raised by calling the code that raises them (a
terminal prompt, a limit reached) and shown the way the app shows them."""
from __future__ import annotations

import io

import pytest

from cli.users import main as cli
from models.core.accounts import CURRENT_USER, Accounts, Limits, User
from models.core.errors import UserError
from models.core.jobs import JobRunner
from tests.classroom import classroom_app  # noqa: F401  (the fixture)
from tests.messages import LANG, check_message
from webapp.common import message_text

CASES = [
    ("teacher_only", "/teacher_overview", [LANG]),
    ("teach_no_names", "/teacher_add_users", ["  ", None, "student", LANG]),
    ("user_bad_name", "/teacher_add_users", ["x" * 41, None, "student", LANG]),
    ("user_unknown", "/teacher_remove_user", ["nobody-here", LANG]),
    ("teach_self", "/teacher_remove_user", ["tess", LANG]),
    ("teach_bad_limit", "/teacher_limits", [-1, 1, 20, 15, 0, LANG]),
    ("model_not_allowed", "/token_surprisal", ["smollm2", "Some text.", LANG]),
]
AS = {"teacher_only": "amy", "model_not_allowed": "amy"}          # the others: the teacher
CONTAINS = {"teacher_only": ("Only a teacher", "只有教师"),
            "teach_self": ("your own login", "自己"),
            "model_not_allowed": ("has not opened", "还没有")}

DIRECT_CODES = {"user_bad_role", "user_short_password", "user_exists", "user_password_mismatch", "quota_jobs",
                "quota_rate", "quota_upload", "login_needed", "user_same_password",
                "password_change_needed", "att_view_gone"}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_classroom_errors_through_the_app(classroom_app, lang):  # noqa: F811
    classroom_app.accounts.set_allowed_models(["minilm"])
    try:
        clients = {}
        for code, api_name, args in CASES:
            who = AS.get(code, "tess")
            client = clients.setdefault(who, classroom_app.client(who))
            with pytest.raises(Exception) as err:
                client.predict(*[lang if a is LANG else a for a in args], api_name=api_name)
            text = str(err.value)
            check_message(text, lang)
            if code in CONTAINS:
                want = CONTAINS[code][0 if lang == "en" else 1]
                assert want in text, (code, text)
    finally:
        classroom_app.accounts.set_allowed_models(None)


def _raised(fn) -> UserError:
    with pytest.raises(UserError) as err:
        fn()
    return err.value


class _Tty(io.StringIO):
    def isatty(self):
        return True


def _as_logged_in(room, name: str):
    """The gate's check for a request from `name` calling a public endpoint."""
    from types import SimpleNamespace
    from gradio.context import LocalContext
    token = LocalContext.request.set(SimpleNamespace(username=name, session_hash="s1"))
    try:
        block_fn = SimpleNamespace(api_name="generate", api_visibility="public",
                                   concurrency_id="device")
        return room._enter(lambda: None, block_fn, (), {})
    finally:
        LocalContext.request.reset(token)


def _tiny_result():
    import numpy as np
    from models.runners.attention import AttentionMap, AttentionResult
    toks = ["a", "b"]
    amap = AttentionMap("self", "self", toks, toks, np.full((1, 1, 2, 2), 0.5, np.float16))
    return AttentionResult("m", "M", "encoder", {"self": amap}, toks)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_classroom_errors_raised_directly(tmp_path, monkeypatch, lang):
    from webapp.access import Classroom
    acc = Accounts(tmp_path)
    acc.add("amy", "a good password", "student")
    errors = {
        "user_short_password": _raised(lambda: acc.add("bob", "short", "student")),
        "user_exists": _raised(lambda: acc.add("amy", "another password", "student")),
        "user_bad_role": _raised(lambda: acc.add("bob", "a good password", "admin")),
    }
    answers = iter(["first password", "second password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    from cli import users as users_cli
    errors["user_password_mismatch"] = _raised(lambda: users_cli._read_password(_Tty()))
    assert cli(["add", "x", "--role", "student"], str(tmp_path), stdin=io.StringIO("short\n")) == 2

    runner = JobRunner("errors")
    student = User("amy", "student", limits=Limits(requests_per_minute=1, concurrent_jobs=1,
                                                    upload_mb=1))
    token = CURRENT_USER.set(student)
    try:
        runner.set_paused(True)                     # keep the first job queued
        runner.submit("demo", "first", lambda ctx: None)
        errors["quota_jobs"] = _raised(lambda: runner.submit("demo", "second", lambda ctx: None))
    finally:
        CURRENT_USER.reset(token)
        runner.set_paused(False)
    room = Classroom(acc, manager=None, jobs=runner)
    room._count_run(student)
    errors["quota_rate"] = _raised(lambda: room._count_run(student))
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    errors["quota_upload"] = _raised(lambda: room._check_files(student, [str(big)], {}))
    errors["login_needed"] = _raised(room._who)           # no logged-in request
    [(_name, one_time)] = acc.add_many(["dora"])
    errors["user_same_password"] = _raised(lambda: acc.change_password("dora", one_time,
                                                                       one_time))
    errors["password_change_needed"] = _raised(lambda: _as_logged_in(room, "dora"))
    from models.runners.attention import ViewStore
    from webapp.tabs.attention import kept
    store = ViewStore(None, per_owner=1)
    first = store.put("session:api", _tiny_result())
    store.put("session:api", _tiny_result())
    errors["att_view_gone"] = _raised(lambda: kept(store, first))
    assert set(errors) == DIRECT_CODES
    for code, exc in errors.items():
        assert exc.code == code
        text = message_text(exc, lang)
        check_message(text, lang)
