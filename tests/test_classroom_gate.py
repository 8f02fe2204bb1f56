"""The classroom gate (webapp/access.py) without a server: uploads go to the person's own
folder and leave Gradio's shared upload folder; someone still on a one-time password can
only change it. (tests/test_classroom.py drives the same through the running app.)"""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from models.core.accounts import Accounts, Limits, User
from models.core.errors import UserError
from models.core.jobs import JobRunner
from webapp.access import KEEP_UPLOADS, Classroom, is_action


@pytest.fixture
def room(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    acc = Accounts(tmp_path / "cache")
    return Classroom(acc, manager=None, jobs=JobRunner("gate"))


def upload(tmp_path, name: str, data: bytes) -> str:
    folder = tmp_path / "gradio" / os.urandom(8).hex()
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return str(path)


def test_an_upload_moves_into_the_students_own_folder(room, tmp_path):
    amy, bob = User("amy", "student"), User("bob", "student")
    sent = upload(tmp_path, "reviews.csv", b"text,label\nnice,pos\n")
    typed = str(tmp_path / "not-an-upload.txt")
    open(typed, "w").write("x")
    args, kwargs = room._own_uploads(amy, (sent, "some text", typed, [sent]),
                                     {"f": {"path": sent, "meta": {}}})
    mine = args[0]
    assert mine != sent and not os.path.exists(sent)          # gone from the shared folder
    assert "/uploads/u-amy-" in mine and mine.endswith("/reviews.csv")
    assert open(mine, "rb").read() == b"text,label\nnice,pos\n"
    assert args[1] == "some text" and args[2] == typed and os.path.exists(typed)
    assert args[3] == [mine] and kwargs["f"]["path"] == mine
    # the same upload address again (a second button on the same file): the same copy
    again, _ = room._own_uploads(amy, (sent,), {})
    assert again[0] == mine
    # an address that is not an upload of anyone's stays as it is (the handler reports it)
    nowhere = str(tmp_path / "gradio" / "feedbeef" / "x.csv")
    assert room._own_uploads(bob, (nowhere,), {})[0] == (nowhere,)
    # Gradio names uploads by their bytes: bob uploading the same file after amy's event
    # moved it gets his own copy, in his folder
    theirs, _ = room._own_uploads(bob, (sent,), {})
    assert "/uploads/u-bob-" in theirs[0] and theirs[0] != mine
    assert open(theirs[0], "rb").read() == open(mine, "rb").read()
    assert room.uploads_bytes("amy") == room.uploads_bytes("bob") == len(b"text,label\nnice,pos\n")


def test_a_students_uploads_are_counted_against_the_limit(room, tmp_path):
    amy = User("amy", "student", limits=Limits(upload_mb=1))
    mb = 1024 * 1024
    kept = []
    for i in range(KEEP_UPLOADS + 3):
        [path], _ = room._own_uploads(amy, (upload(tmp_path, f"f{i}.txt", b"x" * (mb - 10)),),
                                      {})
        kept.append(path)
        assert room.uploads_bytes("amy") <= KEEP_UPLOADS * mb
    assert os.path.exists(kept[-1]) and not os.path.exists(kept[0])
    # one file over the limit is refused before anything is copied
    big = upload(tmp_path, "big.txt", b"x" * (2 * mb))
    with pytest.raises(UserError) as err:
        room._check_files(amy, [big], {})
    assert err.value.code == "quota_upload"


def _request(name):
    from gradio.context import LocalContext
    return LocalContext.request.set(SimpleNamespace(username=name, session_hash="s"))


def test_a_one_time_password_opens_only_the_password_box(room):
    from gradio.context import LocalContext
    [(_n, one_time)] = room.accounts.add_many(["dora"])
    action = SimpleNamespace(api_name="generate", api_visibility="public", concurrency_id="device")
    button = SimpleNamespace(api_name="finetune_start_ui", api_visibility="private",
                             concurrency_id="x")
    redraw = SimpleNamespace(api_name=None, api_visibility="private", concurrency_id="x")
    assert is_action(action) and is_action(button) and not is_action(redraw)

    def change(*_a):
        return None
    change._password_change = True
    token = _request("dora")
    try:
        for block_fn in (action, button):
            with pytest.raises(UserError) as err:
                room._enter(lambda: None, block_fn, (), {})
            assert err.value.code == "password_change_needed"
        room._enter(lambda: None, redraw, (), {})            # the page still loads
        user, _a, _k = room._enter(change, action, (), {})
        assert user.name == "dora" and user.must_change
        room.accounts.change_password("dora", "dora's own pw", "dora's own pw")
        user, _a, _k = room._enter(lambda: None, action, (), {})
        assert not user.must_change
    finally:
        LocalContext.request.reset(token)
