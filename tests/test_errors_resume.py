"""The errors of Resume (models/core/jobs.py `JobRunner.resume`, the "Resume" buttons and
/my_job_resume): raised by the runner itself on a store, worded in English and Chinese."""
from __future__ import annotations

import pytest

from models.core.errors import UserError
from models.core.jobs import JobRunner
from models.core.store import Store
from tests.messages import check_message, words_of
from webapp.common import message_text

CASES: list = []
DIRECT_CODES = {"job_not_interrupted", "job_cannot_resume"}


def _raised(fn) -> UserError:
    with pytest.raises(UserError) as err:
        fn()
    return err.value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_resume_errors(tmp_path, lang):
    first = JobRunner("first", store=Store(tmp_path))
    first.set_paused(True)                       # left queued when "the server stops"
    cut_off = first.submit("no-such-kind", "cut off", lambda ctx: None)
    again = JobRunner("again", store=Store(tmp_path))
    queued = again.submit("no-such-kind", "still queued", lambda ctx: None)
    errors = {"job_cannot_resume": _raised(lambda: again.resume(cut_off)),
              "job_not_interrupted": _raised(lambda: again.resume(queued))}
    assert set(errors) == DIRECT_CODES
    for code, exc in errors.items():
        assert exc.code == code
        text = message_text(exc, lang)
        check_message(text, lang)
        assert words_of(code, lang).search(text), (code, text)
    first.cancel(cut_off)
