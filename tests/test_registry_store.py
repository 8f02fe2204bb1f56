"""The model list in the store (models/core/registry.py): two registries on one cache folder, as
two app processes would have, see each other's models at once; a name is never given twice;
a trained model's row names its job (and the pickers show it, webapp/common.py `model_label`);
an old registry.json is imported once."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from models.core.accounts import CURRENT_USER, User
from models.core.errors import UserError
from models.core.jobs import DONE, JobRunner
from models.core.registry import Registry
from tests.tiny import make_bert

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """Tiny model folders (save_pretrained): two classifiers and two plain encoders."""
    root = tmp_path_factory.mktemp("folders")
    return {"a": make_bert(root / "a", head="classification"),
            "b": make_bert(root / "b", head="classification"),
            "c": make_bert(root / "c"), "d": make_bert(root / "d")}


def keys(registry: Registry) -> set[str]:
    return {s.key for s in registry.all()}


def test_two_registries_on_one_folder_see_each_others_models(tmp_path, folders):
    one, two = Registry(tmp_path), Registry(tmp_path)
    a = one.add_local(str(folders["a"]), name="from one")
    b = two.add_local(str(folders["b"]), name="from two")
    assert {a.key, b.key} <= keys(one) and {a.key, b.key} <= keys(two)
    assert two.get(a.key).location == str(folders["a"].resolve())
    assert "classify" in two.get(a.key).tasks                  # the spec came with the row
    two.set_shared(a.key, True)
    assert one.get(a.key).shared
    one.remove(b.key)
    assert b.key not in keys(two)
    with pytest.raises(UserError) as err:
        two.get(b.key)
    assert err.value.code == "unknown_model"


def test_a_taken_name_gets_a_visible_suffix(tmp_path, folders):
    reg = Registry(tmp_path)
    first = reg.add_local(str(folders["a"]), name="minilm-sentiment_en")
    second = Registry(tmp_path).add_local(str(folders["b"]), name="minilm-sentiment_en")
    third = reg.add_local(str(folders["c"]), name="minilm-sentiment_en")
    assert [first.name, second.name, third.name] == [
        "minilm-sentiment_en", "minilm-sentiment_en (2)", "minilm-sentiment_en (3)"]
    assert len({first.key, second.key, third.key}) == 3
    names = [s.name for s in reg.all()]
    assert len(names) == len(set(names))                         # one name, one model
    # a built-in model's name is taken too
    assert reg.add_local(str(folders["d"]), name="gpt2").name == "gpt2 (2)"
    # the same folder again keeps its key; its name stays free of the others
    again = reg.add_local(str(folders["b"]), name="minilm-sentiment_en")
    assert (again.key, again.name) == (second.key, "minilm-sentiment_en (2)")


def test_a_model_made_by_a_job_names_the_job_and_the_picker_shows_it(tmp_path, folders):
    from webapp.common import model_choices, model_label
    runner = JobRunner("made")
    reg = Registry(tmp_path)
    added = reg.add_local(str(folders["c"]), name="added by hand")
    job_id = runner.submit("finetune", "t",
                           lambda ctx: reg.add_local(str(folders["a"]), name="tuned"))
    job = runner.wait(job_id, 30)
    assert job.status == DONE
    made = Registry(tmp_path).get(job.result.key)              # as another process reads it
    assert made.job_id == job_id and abs(made.created - time.time()) < 60
    assert added.job_id == "" and model_label(added, "en") == "added by hand"
    short = job_id.rsplit("-", 1)[-1][:4]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(made.created))
    assert model_label(made, "en") == f"tuned · {when} · job {short}"
    assert model_label(made, "zh") == f"tuned · {when} · 任务 {short}"

    class Manager:                      # what model_choices reads: the registry
        registry = reg
    labels = dict((k, label) for label, k in model_choices(Manager, "classify", "en"))
    assert labels[made.key] == f"tuned · {when} · job {short}"


def test_an_old_registry_file_is_imported_once(tmp_path, folders):
    old = [{"key": "local:tuned", "name": "tuned", "source": "local",
            "location": str(folders["a"]), "tasks": ["classify", "attention"], "owner": "amy",
            "shared": True},
           {"key": "local:older", "name": "tuned", "source": "local",        # the same name
            "location": str(folders["b"]), "tasks": [], "owner": "", "shared": False},
           {"key": "local:gone", "name": "gone", "source": "local",
            "location": str(tmp_path / "deleted"), "tasks": [], "owner": "", "shared": False}]
    (tmp_path / "registry.json").write_text(json.dumps(old), encoding="utf-8")
    reg = Registry(tmp_path)
    mine = [s for s in reg.all() if s.source == "local"]
    assert sorted(s.name for s in mine) == ["tuned", "tuned (2)"]
    tuned = reg.get("local:tuned")
    assert (tuned.owner, tuned.shared, tuned.tasks) == ("amy", True, {"classify", "attention"})
    assert reg.get("local:older").name == "tuned (2)"      # keys kept: allowed lists name them
    assert not (tmp_path / "registry.json").exists()
    assert (tmp_path / "registry.json.imported").exists()
    # a second start (or a second process) finds nothing to import: no row twice
    assert len([s for s in Registry(tmp_path).all() if s.source == "local"]) == 2


def test_a_students_model_stays_hidden_from_another_student(tmp_path, folders):
    reg = Registry(tmp_path)
    token = CURRENT_USER.set(User("amy", "student"))
    try:
        amys = reg.add_local(str(folders["a"]), name="amy's")
    finally:
        CURRENT_USER.reset(token)
    token = CURRENT_USER.set(User("ben", "student"))
    try:
        assert amys.key not in keys(Registry(tmp_path))
    finally:
        CURRENT_USER.reset(token)
    assert Registry(tmp_path).get(amys.key).owner == "amy"


ADD_AND_LIST = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    from models.core.registry import Registry
    cache, folder, name = sys.argv[2:5]
    reg = Registry(cache)
    mine = reg.add_local(folder, name=name)
    local = lambda: [s for s in reg.all() if s.source == "local"]
    deadline = time.monotonic() + 60
    while len(local()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)           # the other process's model, without a restart
    print(json.dumps({"mine": [mine.key, mine.name], "seen": sorted(s.name for s in reg.all())}))
""")


def test_two_processes_each_add_a_model_and_both_see_both(tmp_path, folders):
    cache = tmp_path / "cache"
    Registry(cache)                          # the tables exist before the two start
    procs = [subprocess.Popen([sys.executable, "-c", ADD_AND_LIST, str(ROOT), str(cache),
                               str(folders[f]), "shared name"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for f in ("a", "b")]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    # the same name at the same moment: one got the suffix, in one transaction each
    assert sorted(o["mine"][1] for o in outs) == ["shared name", "shared name (2)"]
    for o in outs:                           # each saw the other's without a restart
        assert {"shared name", "shared name (2)"} <= set(o["seen"])
    assert {"shared name", "shared name (2)"} <= {s.name for s in Registry(cache).all()}
