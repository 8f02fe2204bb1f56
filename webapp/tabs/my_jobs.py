""""My jobs": a small panel on the Models tab listing the training jobs of the person asking
(in a classroom a student sees only their own, a teacher everyone's; models/core/jobs.py
applies that rule), with their status, a Stop button, and "Open in its tab", which shows the
job in the tab that started it and follows it there (the same drawing as after a reload,
webapp/common.py follow_job), and Resume for a job its server's stop interrupted (it continues
from its last checkpoint, models/core/jobs.py `resume`). The list is /my_jobs for API clients;
/my_job_stop stops one, /my_job_resume resumes one.
"""
from __future__ import annotations

import html

import gradio as gr

from models.core.jobs import FINISHED, INTERRUPTED, JobRunner

from webapp.common import AppContext, QUIET, action_message, wire_action
from webapp.i18n import t

# job kind -> (the main tab, the sub-tab's elem_id) that follows it (follow_job's names)
KIND_TABS = {"finetune": ("finetune", "ft-sub-classify"),
             "tokens": ("finetune", "ft-sub-tokens"),
             "sft": ("finetune", "ft-sub-sft"),
             "pretrain": ("pretrain", "pre-tab-train")}
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")


def job_rows(jobs: JobRunner) -> list[dict]:
    """The jobs the user asking may see, newest first, as plain data (the /my_jobs answer)."""
    return [{"job_id": j.id, "kind": j.kind, "title": j.title, "status": j.status,
             "progress": j.progress, "owner": j.owner}
            for j in sorted(jobs.jobs(), key=lambda j: -j.created)]


def jobs_html(rows: list[dict], lang: str) -> str:
    if not rows:
        return f'<p class="myjobs-none">{html.escape(t("myjobs.none", lang))}</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t("myjobs.cols", lang).split("|"))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            r["job_id"], r["title"],
            t(f"myjobs.status.{r['status']}", lang) if r["status"] in STATUSES else r["status"],
            f"{r['progress'] * 100:.0f}%")) + "</tr>"
        for r in rows)
    return (f'<table class="models-table myjobs-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def stop_job(jobs: JobRunner, job_id: str, lang: str) -> str:
    """Stop one of the user's jobs; another student's id answers like a missing one."""
    job = jobs.snapshot((job_id or "").strip())
    if job.status in FINISHED or not jobs.cancel(job.id):
        return t("myjobs.finished", lang, job_id=job.id)
    if job.status == INTERRUPTED:                 # given up: it will not be resumed
        return t("myjobs.given_up", lang, job_id=job.id)
    return t("myjobs.stopping", lang, job_id=job.id)


def resume_job(jobs: JobRunner, job_id: str, lang: str) -> str:
    """Resume one of the user's interrupted jobs; UserError when it cannot be."""
    return t("myjobs.resumed", lang, job_id=jobs.resume((job_id or "").strip()))


def job_place(jobs: JobRunner, job_id: str) -> tuple[str, str]:
    """(job id, kind) of a job the user may see; another student's id answers like a missing
    one (UserError job_unknown)."""
    job = jobs.snapshot((job_id or "").strip())
    return job.id, job.kind


def build(ctx: AppContext) -> None:
    jobs, loc, lang = ctx.jobs, ctx.loc, ctx.lang
    with loc.Accordion(label_key="myjobs.title", open=True, elem_id="myjobs"):
        loc.Markdown(value_key="myjobs.intro")
        table = gr.HTML(elem_id="myjobs-table")
        with gr.Row(equal_height=True):
            job_id = loc.Textbox(label_key="myjobs.job_id", max_lines=1, scale=3,
                                 elem_id="myjobs-id")
            open_btn = loc.Button(value_key="myjobs.open", variant="primary", scale=1,
                                  elem_id="myjobs-open")
            stop_btn = loc.Button(value_key="myjobs.stop", variant="stop", scale=1,
                                  elem_id="myjobs-stop")
            resume_btn = loc.Button(value_key="myjobs.resume", scale=1, elem_id="myjobs-resume")
            refresh_btn = loc.Button(value_key="myjobs.refresh", scale=1,
                                     elem_id="myjobs-refresh")
        msg = gr.Markdown(elem_id="myjobs-msg")
        err = action_message("myjobs-err")
        sub_tab = gr.Textbox(visible=False, elem_id="myjobs-subtab")   # for the JS below

    def show(lang):
        return jobs_html(job_rows(jobs), lang)

    def on_stop(jid, lang):
        return stop_job(jobs, jid, lang), jobs_html(job_rows(jobs), lang)

    def on_resume(jid, lang):
        return resume_job(jobs, jid, lang), jobs_html(job_rows(jobs), lang)

    refresh_btn.click(show, [lang], [table], show_progress="hidden", api_visibility="private")
    for trigger in (ctx.demo.load, ctx.current_tab.select, lang.change):
        trigger(show, [lang], [table], **QUIET)
    gr.Timer(10.0).tick(show, [lang], [table], **QUIET)
    wire_action(stop_btn.click, on_stop, [job_id, lang], [msg, table], message=err,
                api_name="my_job_stop", show_progress="hidden")
    wire_action(resume_btn.click, on_resume, [job_id, lang], [msg, table], message=err,
                api_name="my_job_resume", show_progress="hidden")
    def my_jobs_api() -> list:
        return job_rows(jobs)
    gr.api(my_jobs_api, api_name="my_jobs")

    def wire_open(ctx_: AppContext) -> None:
        """Open: switch to the job's tab, put the id in that tab's job box (remembered there
        like a job started in it), and draw it."""
        followers = getattr(ctx_, "followers", {}) or {}
        names = [n for n in KIND_TABS if n in followers]
        boxes = [followers[n][0] for n in names]

        def on_open(jid, lang):
            found, kind = job_place(jobs, jid)
            if kind not in KIND_TABS:
                return (t("myjobs.opened", lang, job_id=found), gr.skip(), "") \
                    + (gr.skip(),) * len(names)
            tab, sub = KIND_TABS[kind]
            return ((t("myjobs.opened", lang, job_id=found), gr.Tabs(selected=tab), sub)
                    + tuple(found if n == kind else gr.skip() for n in names))

        events = wire_action(open_btn.click, on_open, [job_id, lang],
                             [msg, ctx_.tabs, sub_tab] + boxes, message=err, clear=[msg],
                             show_progress="hidden")
        chain = events[0].then(None, [sub_tab, job_id], None, api_visibility="private", js="""
            (sub, id) => { if (!sub) return; const key = {'ft-sub-classify': 'finetune',
              'ft-sub-tokens': 'tokens', 'ft-sub-sft': 'sft', 'pre-tab-train': 'pretrain'}[sub];
              try { if (key && id) localStorage.setItem('llm-explorer-' + key + '-job-id',
                                                        id.trim()); } catch (e) {}
              setTimeout(() => { const b = document.getElementById(sub + '-button');
                                 if (b) b.click(); }, 300); }""")
        for name in names:
            box, _poll, render, outputs = followers[name]
            chain = chain.then(render, [box, ctx_.lang], outputs, **QUIET)
    ctx.after_build.append(wire_open)
