"""Teacher tab (only with --classroom, only shown to teachers; webapp/access.py refuses its
actions to students even through the API): who is connected, the device queue and memory,
every job (stop any), the per-student limits, the models students may use, publishing a
student's model to the class, pausing training, and logins (names -> one-time passwords)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from models.core.accounts import Limits, current_user, passwords_csv, read_names
from models.core.device import format_bytes
from models.core.errors import UserError
from models.core.jobs import FINISHED

from webapp.access import Classroom, password_change, teacher_only
from webapp.common import AppContext, action_message, model_label, wire_action
from webapp.i18n import t
from webapp.views import teacher as view

TITLE_KEY = "tab.teacher"
TAB_ID = "teacher"
VISIBLE = False            # shown to teachers when their page loads (show_for_role)
LIMIT_HIGH = 100_000


# ---- handlers (plain inputs and outputs) ----------------------------------------------------

def overview(room: Classroom, lang: str, views=None) -> tuple[str, str, str]:
    """(people, device, jobs) as HTML. `views`: the Attention tab's ViewStore (what is kept
    for each person between runs, models/runners/attention.py)."""
    manager = room.manager
    kept = memory = None
    if views is not None:
        kept = (format_bytes(views.total_bytes()), format_bytes(views.cap_bytes))
        memory = {owner.removeprefix("user:"): format_bytes(n)
                  for owner, n in views.bytes_by_owner().items() if owner.startswith("user:")}
    device = view.device_html(manager.scheduler.running(), manager.scheduler.waiting(),
                              format_bytes(manager.used_bytes()),
                              format_bytes(manager.budget_bytes), lang, kept)
    return (view.people_html(room.connected(), lang, memory), device,
            view.jobs_html(room.jobs.jobs(), lang))


def cancel_job(room: Classroom, job_id: str, lang: str) -> str:
    job = room.jobs.snapshot((job_id or "").strip())          # unknown id -> clear message
    if job.status in FINISHED or not room.jobs.cancel(job.id):
        return t("teach.not_running", lang, job_id=job.id)
    return t("teach.cancelled", lang, job_id=job.id)


def _whole(value) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1
    if not (0 <= number <= LIMIT_HIGH) or number != int(number):
        raise UserError("teach_bad_limit", high=LIMIT_HIGH)
    return int(number)


def save_limits(room: Classroom, rpm, jobs, upload_mb, minutes, steps, lang: str) -> str:
    limits = Limits(_whole(rpm), _whole(jobs), _whole(upload_mb), _whole(minutes),
                    _whole(steps))
    room.accounts.set_limits(limits)
    return t("teach.limits_saved", lang, rpm=limits.requests_per_minute,
             jobs=limits.concurrent_jobs, upload=limits.upload_mb,
             minutes=limits.training_minutes, steps=limits.training_steps)


def class_models(room: Classroom, lang: str = "en") -> list[tuple[str, str]]:
    """(label, key) of the class's own models (not made by a student), for the allow-list."""
    return [(model_label(s, lang), s.key) for s in room.manager.registry.all() if not s.owner]


def allowed_now(room: Classroom) -> list[str]:
    allowed = room.accounts.allowed_models()
    keys = [k for _n, k in class_models(room)]
    return keys if allowed is None else [k for k in keys if k in allowed]


def save_models(room: Classroom, keys, lang: str) -> str:
    known = {k for _n, k in class_models(room)}
    chosen = [k for k in (keys or []) if k in known]
    room.accounts.set_allowed_models(chosen)
    return t("teach.models_saved", lang, count=len(chosen))


def made_models(room: Classroom, lang: str = "en") -> list[tuple[str, str]]:
    return [(f"{model_label(s, lang)} ({s.owner}{', ✓' if s.shared else ''})", s.key)
            for s in room.manager.registry.all() if s.owner]


def publish(room: Classroom, key: str, shared: bool, lang: str) -> str:
    spec = room.manager.registry.set_shared(key, shared)
    return t("teach.published" if shared else "teach.unpublished", lang, name=spec.name)


def set_pause(room: Classroom, paused: bool, lang: str) -> str:
    room.accounts.set_training_paused(bool(paused))
    room.jobs.set_paused(bool(paused))
    return t("teach.paused" if paused else "teach.resumed", lang)


def add_users(room: Classroom, names_text: str, names_file: str | None, role: str,
              lang: str) -> tuple[str, str | None, str]:
    """(passwords table, CSV file of them, users table)."""
    text = names_text or ""
    if names_file:
        text += "\n" + Path(names_file).read_text(encoding="utf-8-sig", errors="replace")
    names = read_names(text)
    if not names:
        raise UserError("teach_no_names")
    rows = room.accounts.add_many(names, role or "student")
    path = None
    if rows:
        with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="passwords-", delete=False,
                                         encoding="utf-8") as out:
            out.write(passwords_csv(rows))
            path = out.name
    return view.passwords_html(rows, lang), path, view.users_html(room.accounts.users(), lang)


def remove_user(room: Classroom, name: str, me: str | None, lang: str) -> tuple[str, str]:
    name = (name or "").strip()
    if me and name == me:
        raise UserError("teach_self")
    room.accounts.remove(name)
    return t("teach.removed", lang, name=name), view.users_html(room.accounts.users(), lang)


def change_password(room: Classroom, new: str, again: str, lang: str) -> str:
    """The logged-in user's own new password (the one-time one stops working)."""
    user = current_user()
    if user is None:
        raise UserError("login_needed")
    room.accounts.change_password(user.name, new, again)
    return t("pw.saved", lang)


def build_password_box(ctx: AppContext) -> None:
    """Above the tabs, shown only to someone still on a one-time password: they choose their
    own before anything else (the tabs stay hidden until then, and the server refuses every
    other action, webapp/access.py). Call inside the Blocks, before the tabs are built; the
    page-load wiring runs once the tabs exist (ctx.after_build)."""
    room: Classroom = ctx.classroom
    loc = ctx.loc
    with gr.Column(visible=False, elem_id="pw-box") as box:
        loc.Markdown(value_key="pw.intro", elem_id="pw-intro")
        new = loc.Textbox(label_key="pw.new", type="password", max_lines=1, elem_id="pw-new")
        again = loc.Textbox(label_key="pw.again", type="password", max_lines=1,
                            elem_id="pw-again")
        save = loc.Button(value_key="pw.save", variant="primary", elem_id="pw-save")
        err = action_message("pw-err")
    done = gr.Markdown(elem_id="pw-done")

    @password_change
    def on_save(new_, again_, lang):
        text = change_password(room, new_, again_, lang)
        return text, gr.update(visible=False), gr.update(visible=True), "", ""

    def must_change(request: gr.Request):
        name = getattr(request, "username", None) or ""
        hide = room.accounts.must_change(name)
        return gr.update(visible=hide), gr.update(visible=not hide)

    def wire(ctx_: AppContext) -> None:
        wire_action(save.click, on_save, [new, again, ctx_.lang],
                    [done, box, ctx_.tabs, new, again], message=err, clear=[done],
                    api_name="change_password", show_progress="hidden")
        ctx_.demo.load(must_change, None, [box, ctx_.tabs], show_progress="hidden",
                       api_visibility="private")
    ctx.after_build.append(wire)


# ---- layout and wiring ------------------------------------------------------------------------

def build(ctx: AppContext) -> None:
    room: Classroom = ctx.classroom
    loc, lang = ctx.loc, ctx.lang
    tab_block = ctx.current_tab
    loc.Markdown(value_key="teach.intro")
    refresh_btn = loc.Button(value_key="teach.refresh", elem_id="teach-refresh", size="sm")
    with gr.Row():
        people = gr.HTML(elem_id="teach-people")
        device = gr.HTML(elem_id="teach-device")
    jobs_box = gr.HTML(elem_id="teach-jobs")
    with gr.Row(equal_height=True):
        job_id = loc.Textbox(label_key="teach.job_id", elem_id="teach-job-id", scale=3,
                             max_lines=1)
        cancel_btn = loc.Button(value_key="teach.cancel", variant="stop", scale=1,
                                elem_id="teach-cancel")
    cancel_msg = gr.Markdown(elem_id="teach-cancel-msg")
    cancel_err = action_message("teach-cancel-err")

    limits = room.accounts.limits()
    with loc.Accordion(label_key="teach.limits", open=True):
        loc.Markdown(value_key="teach.limits_hint")
        with gr.Row():
            rpm = loc.Number(label_key="teach.rpm", value=limits.requests_per_minute,
                             precision=0, elem_id="teach-rpm")
            max_jobs = loc.Number(label_key="teach.max_jobs", value=limits.concurrent_jobs,
                                  precision=0, elem_id="teach-jobs-limit")
            upload = loc.Number(label_key="teach.upload_mb", value=limits.upload_mb,
                                precision=0, elem_id="teach-upload")
            minutes = loc.Number(label_key="teach.train_minutes",
                                 value=limits.training_minutes, precision=0,
                                 elem_id="teach-minutes")
            steps = loc.Number(label_key="teach.train_steps", value=limits.training_steps,
                               precision=0, elem_id="teach-steps")
        limits_btn = loc.Button(value_key="teach.save_limits", elem_id="teach-save-limits")
        limits_msg = gr.Markdown(elem_id="teach-limits-msg")
        limits_err = action_message("teach-limits-err")
        pause = loc.Checkbox(label_key="teach.pause", value=room.accounts.training_paused(),
                             elem_id="teach-pause")
        pause_msg = gr.Markdown(elem_id="teach-pause-msg")

    with loc.Accordion(label_key="teach.models", open=False):
        loc.Markdown(value_key="teach.models_hint")
        allowed = gr.CheckboxGroup(choices=class_models(room, loc.lang), value=allowed_now(room),
                                   show_label=False, elem_id="teach-allowed")
        models_btn = loc.Button(value_key="teach.save_models", elem_id="teach-save-models")
        models_msg = gr.Markdown(elem_id="teach-models-msg")
        with gr.Row(equal_height=True):
            made = loc.Dropdown(label_key="teach.publish_pick", choices=made_models(room, loc.lang),
                                allow_custom_value=True, scale=3, elem_id="teach-made")
            publish_btn = loc.Button(value_key="teach.publish", scale=1, elem_id="teach-publish")
            unpublish_btn = loc.Button(value_key="teach.unpublish", scale=1,
                                       elem_id="teach-unpublish")
        publish_err = action_message("teach-publish-err")

    with loc.Accordion(label_key="teach.users", open=False):
        with gr.Row():
            names = loc.Textbox(label_key="teach.names", lines=4, elem_id="teach-names", scale=3)
            names_file = loc.File(label_key="teach.names_file", file_types=[".csv", ".txt"],
                                  type="filepath", elem_id="teach-names-file", scale=2)
        role = loc.Radio(label_key="teach.role", value="student", elem_id="teach-role",
                         choices=[(t("teach.role.student", loc.lang), "student"),
                                  (t("teach.role.teacher", loc.lang), "teacher")])
        add_btn = loc.Button(value_key="teach.add_users", variant="primary",
                             elem_id="teach-add-users")
        add_err = action_message("teach-add-err")
        passwords = gr.HTML(elem_id="teach-passwords")
        passwords_file = loc.File(label_key="teach.passwords_file", interactive=False,
                                  elem_id="teach-passwords-file")
        with gr.Row(equal_height=True):
            remove_name = loc.Textbox(label_key="teach.remove_name", max_lines=1, scale=3,
                                      elem_id="teach-remove-name")
            remove_btn = loc.Button(value_key="teach.remove", variant="stop", scale=1,
                                    elem_id="teach-remove")
        remove_msg = gr.Markdown(elem_id="teach-remove-msg")
        remove_err = action_message("teach-remove-err")
        users = gr.HTML(elem_id="teach-users")

    @teacher_only
    def on_overview(lang):
        return overview(room, lang, ctx.attention_views)

    @teacher_only
    def on_cancel(job_id, lang):
        return cancel_job(room, job_id, lang)

    @teacher_only
    def on_limits(rpm, jobs_, upload_mb, minutes_, steps_, lang):
        return save_limits(room, rpm, jobs_, upload_mb, minutes_, steps_, lang)

    @teacher_only
    def on_models(keys, lang):
        return save_models(room, keys, lang)

    @teacher_only
    def on_publish(key, lang):
        return publish(room, key, True, lang), gr.update(choices=made_models(room, lang))

    @teacher_only
    def on_unpublish(key, lang):
        return publish(room, key, False, lang), gr.update(choices=made_models(room, lang))

    @teacher_only
    def on_pause(paused, lang):
        return set_pause(room, paused, lang)

    @teacher_only
    def on_add(text, file, role_, lang):
        return add_users(room, text, file, role_, lang)

    @teacher_only
    def on_remove(name, lang, request: gr.Request):
        return remove_user(room, name, getattr(request, "username", None), lang)

    @teacher_only
    def on_users(lang):
        return (view.users_html(room.accounts.users(), lang),
                gr.update(choices=class_models(room, lang), value=allowed_now(room)),
                gr.update(choices=made_models(room, lang)))

    quiet = {"show_progress": "hidden", "api_visibility": "private"}
    outs = [people, device, jobs_box]
    refresh_btn.click(on_overview, [lang], outs, api_name="teacher_overview",
                      show_progress="hidden")
    gr.Timer(5.0).tick(on_overview, [lang], outs, **quiet)
    tab_block.select(on_overview, [lang], outs, **quiet).then(
        on_users, [lang], [users, allowed, made], **quiet)
    wire_action(cancel_btn.click, on_cancel, [job_id, lang], [cancel_msg], message=cancel_err,
                api_name="teacher_cancel_job", show_progress="hidden")
    wire_action(limits_btn.click, on_limits, [rpm, max_jobs, upload, minutes, steps, lang],
                [limits_msg], message=limits_err, api_name="teacher_limits",
                show_progress="hidden")
    pause.input(on_pause, [pause, lang], [pause_msg], api_name="teacher_pause",
                show_progress="hidden")
    wire_action(models_btn.click, on_models, [allowed, lang], [models_msg], message=publish_err,
                api_name="teacher_models", show_progress="hidden")
    wire_action(publish_btn.click, on_publish, [made, lang], [models_msg, made],
                message=publish_err, clear=[models_msg], api_name="teacher_publish",
                show_progress="hidden")
    wire_action(unpublish_btn.click, on_unpublish, [made, lang], [models_msg, made],
                message=publish_err, clear=[models_msg], api_name="teacher_unpublish",
                show_progress="hidden")
    wire_action(add_btn.click, on_add, [names, names_file, role, lang],
                [passwords, passwords_file, users], message=add_err,
                api_name="teacher_add_users", show_progress="hidden")
    wire_action(remove_btn.click, on_remove, [remove_name, lang], [remove_msg, users],
                message=remove_err, api_name="teacher_remove_user", show_progress="hidden")

    def show_for_role(request: gr.Request):
        """The Teacher tab and the teacher-only controls of other tabs (ctx.teacher_only) are
        shown to teachers only; the server refuses them to students
        anyway (webapp/access.py)."""
        is_teacher = room.accounts.role(getattr(request, "username", None) or "") == "teacher"
        return [gr.update(visible=is_teacher)] * (1 + len(ctx.teacher_only))

    def wire_visibility(ctx_: AppContext) -> None:
        ctx_.demo.load(show_for_role, None, [tab_block] + ctx_.teacher_only,
                       **quiet)
    ctx.after_build.append(wire_visibility)
