"""HTML of the Teacher tab, from plain data. Every name (user, model, job) is escaped: a user
called "<b>x</b>" shows as those characters, never as markup."""
from __future__ import annotations

import html
import time

from webapp.i18n import t


def _table(cols_key: str, rows: list[list], lang: str, elem_class: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t(cols_key, lang).split("|"))
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return (f'<table class="models-table {elem_class}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _clock(ts: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else "—"


def people_html(people: list[dict], lang: str, memory: dict | None = None) -> str:
    """`memory`: name -> what the server keeps for them between runs (formatted), if known."""
    title = f"<h4>{html.escape(t('teach.connected', lang))} ({len(people)})</h4>"
    if not people:
        return title + f"<p>{html.escape(t('teach.nobody', lang))}</p>"
    rows = [[p["name"], t("teach.role." + p["role"], lang), p["sessions"], _clock(p["since"]),
             _clock(p["last"])] + ([memory.get(p["name"], "0 B")] if memory is not None else [])
            for p in people]
    cols = "teach.cols_people" + ("_mem" if memory is not None else "")
    return title + _table(cols, rows, lang, "teach-people")


def device_html(running: tuple | None, waiting: list, used: str, budget: str, lang: str,
                views: tuple[str, str] | None = None) -> str:
    """`views`: (kept, cap) of the attention views kept between runs, formatted."""
    parts = [f"<h4>{html.escape(t('teach.device', lang))}</h4>",
             f"<p><b>{html.escape(t('teach.memory', lang))}:</b> {html.escape(used)} / "
             f"{html.escape(budget)}</p>"]
    if views is not None:
        parts.append(f"<p>{html.escape(t('teach.views_kept', lang, kept=views[0], cap=views[1]))}"
                     "</p>")
    if running:
        parts.append(f"<p><b>{html.escape(t('teach.running', lang))}:</b> "
                     f"{html.escape(running[1] or running[0])}</p>")
    else:
        parts.append(f"<p>{html.escape(t('teach.idle', lang))}</p>")
    if waiting:
        items = "".join(f"<li>{w.position}. {html.escape(w.label or w.kind)} "
                        f"({w.seconds:.0f} s)</li>" for w in waiting)
        parts.append(f"<p><b>{html.escape(t('teach.waiting', lang))}:</b></p><ol>{items}</ol>")
    else:
        parts.append(f"<p>{html.escape(t('teach.no_wait', lang))}</p>")
    return "".join(parts)


def jobs_html(jobs: list, lang: str) -> str:
    title = f"<h4>{html.escape(t('teach.jobs', lang))} ({len(jobs)})</h4>"
    if not jobs:
        return title + f"<p>{html.escape(t('teach.no_jobs', lang))}</p>"
    rows = [[j.id, j.owner or "—", j.title, j.status, f"{j.progress * 100:.0f}%"]
            for j in sorted(jobs, key=lambda j: -j.created)]
    return title + _table("teach.cols_jobs", rows, lang, "teach-jobs")


def users_html(users: list[dict], lang: str) -> str:
    rows = [[u["name"], t("teach.role." + u["role"], lang)] for u in users]
    return _table("teach.cols_users", rows, lang, "teach-users")


def passwords_html(rows: list[tuple[str, str]], lang: str) -> str:
    if not rows:
        return f"<p>{html.escape(t('teach.none_added', lang))}</p>"
    return (f"<p>{html.escape(t('teach.passwords', lang))}</p>"
            + _table("teach.cols_passwords", [list(r) for r in rows], lang, "teach-passwords"))
