"""Strings shared by every job tab and model picker: one start per click (models/core/jobs.py
`same_start`) and which job made a model (webapp/common.py `model_label`)."""

STRINGS = {
    "notice.job_already_running": (
        "Start was pressed again while this job ({job_id}) was still queued or running with the "
        "same settings: no second job was started, and this page goes on following this one.",
        "相同设置的任务（{job_id}）还在排队或运行时又按了一次开始：没有再启动第二个任务，"
        "本页继续跟踪这一个任务。"),
    "jobs.made_by": ("{name} · {when} · job {job}", "{name} · {when} · 任务 {job}"),
    "jobs.made_at": ("{name} · {when}", "{name} · {when}"),
}
