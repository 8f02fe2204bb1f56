"""User-visible strings of the Teacher tab ("teach.") and the classroom's errors and notices:
key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "tab.teacher": ("Teacher", "教师"),
    "teach.logout": ("[Log out](/logout)", "[退出登录](/logout)"),
    "teach.intro": (
        "Only teachers see this tab. It shows who is connected, what the device is doing and "
        "every job in the class; here you set the class limits, choose the models students may "
        "use, pause training, and manage logins.",
        "只有教师能看到这个标签页。这里显示谁在线、设备正在做什么以及全班的所有任务；"
        "你可以在这里设置全班的限额、选择学生可以使用的模型、暂停训练，并管理登录账号。"),
    "teach.refresh": ("Refresh", "刷新"),
    "teach.connected": ("Connected now", "当前在线"),
    "teach.nobody": ("Nobody has a page open.", "现在没有人打开页面。"),
    "teach.cols_people": ("Name|Role|Pages open|Since|Last seen",
                          "姓名|角色|打开的页面|开始于|最近活动"),
    "teach.cols_people_mem": ("Name|Role|Pages open|Since|Last seen|Kept for them",
                              "姓名|角色|打开的页面|开始于|最近活动|为其保留的内存"),
    "teach.views_kept": ("Attention views kept for students: {kept} (at most {cap}; counted in "
                         "the memory in use).",
                         "为学生保留的注意力视图：{kept}（最多 {cap}；已计入已用内存）。"),
    "teach.role.teacher": ("teacher", "教师"),
    "teach.role.student": ("student", "学生"),
    "teach.device": ("Device", "设备"),
    "teach.running": ("Running now", "正在运行"),
    "teach.idle": ("The device is free.", "设备空闲。"),
    "teach.waiting": ("Waiting for the device", "等待设备"),
    "teach.no_wait": ("Nobody is waiting.", "没有人在等待。"),
    "teach.memory": ("Memory in use", "已用内存"),
    "teach.jobs": ("Jobs", "任务"),
    "teach.no_jobs": ("No jobs yet.", "还没有任务。"),
    "teach.cols_jobs": ("Job id|Owner|What|Status|Progress", "任务编号|所有者|内容|状态|进度"),
    "teach.job_id": ("Job id to stop", "要停止的任务编号"),
    "teach.cancel": ("Stop this job", "停止这个任务"),
    "teach.cancelled": ("Asked {job_id} to stop.", "已请求停止 {job_id}。"),
    "teach.not_running": ("{job_id} has already finished.", "{job_id} 已经结束。"),
    "teach.limits": ("Limits for each student", "每个学生的限额"),
    "teach.rpm": ("Model runs per minute", "每分钟运行模型次数"),
    "teach.max_jobs": ("Training jobs at once", "同时进行的训练任务"),
    "teach.upload_mb": ("Largest upload (MB)", "最大上传文件（MB）"),
    "teach.train_minutes": ("Minutes of training per job", "每个训练任务的分钟数"),
    "teach.train_steps": ("Training steps per job", "每个训练任务的步数"),
    "teach.limits_hint": ("0 means no limit.", "0 表示不限制。"),
    "teach.save_limits": ("Save limits", "保存限额"),
    "teach.limits_saved": ("Saved: {rpm} runs a minute, {jobs} job(s) at once, uploads up to "
                           "{upload} MB, {minutes} minutes and {steps} steps per training job "
                           "(0: no limit).",
                           "已保存：每分钟 {rpm} 次运行，同时 {jobs} 个任务，上传最大 {upload} MB，"
                           "每个训练任务 {minutes} 分钟、{steps} 步（0 表示不限制）。"),
    "teach.models": ("Models students may use", "学生可以使用的模型"),
    "teach.models_hint": ("Students see only the ticked models (and their own and published "
                          "ones).", "学生只能看到勾选的模型（以及他们自己的和已发布的模型）。"),
    "teach.save_models": ("Save the list", "保存列表"),
    "teach.models_saved": ("Students may use {count} model(s).", "学生可以使用 {count} 个模型。"),
    "teach.publish_pick": ("A model made in the class", "班上做出的模型"),
    "teach.publish": ("Publish to the class", "发布给全班"),
    "teach.unpublish": ("Take back", "取消发布"),
    "teach.published": ("{name} is now visible to the whole class.", "{name} 现在全班都能看到。"),
    "teach.unpublished": ("{name} is visible to its owner only again.",
                          "{name} 又只有它的所有者能看到了。"),
    "teach.pause": ("Pause training for the class", "暂停全班的训练"),
    "teach.paused": ("Training is paused: jobs wait at their next step.",
                     "训练已暂停：任务会在下一步停下等待。"),
    "teach.resumed": ("Training goes on.", "训练继续进行。"),
    "teach.users": ("Logins", "登录账号"),
    "teach.names": ("Names (one a line, or a CSV whose first column is the name)",
                    "姓名（每行一个，或第一列是姓名的 CSV）"),
    "teach.names_file": ("…or a CSV file of names", "……或者上传姓名 CSV 文件"),
    "teach.role": ("Role", "角色"),
    "teach.add_users": ("Add and make passwords", "添加并生成密码"),
    "teach.passwords": ("Print these one-time passwords and hand them out; they are not shown "
                        "again.", "请打印这些一次性密码并发给学生；它们不会再次显示。"),
    "teach.cols_passwords": ("Name|Password", "姓名|密码"),
    "teach.none_added": ("Nobody was added: every name already has a login.",
                         "没有添加任何人：这些姓名都已经有账号了。"),
    "teach.passwords_file": ("Passwords (CSV)", "密码（CSV）"),
    "teach.remove_name": ("Name to remove", "要删除的姓名"),
    "teach.remove": ("Remove this login", "删除这个账号"),
    "teach.removed": ("Removed {name}.", "已删除 {name}。"),
    "teach.cols_users": ("Name|Role", "姓名|角色"),
    # ---- "My jobs" (webapp/tabs/my_jobs.py, on the Models tab) ----
    "myjobs.title": ("My jobs", "我的任务"),
    "myjobs.intro": ("Your training jobs on this server (a teacher sees everyone's). Copy a job "
                     "id into the box to stop it, or to open it in the tab that started it and "
                     "follow it there.",
                     "你在这台服务器上的训练任务（教师能看到所有人的）。把任务编号复制到框里，可以停止它，"
                     "或者在启动它的标签页里打开并继续查看。"),
    "myjobs.none": ("You have no jobs yet. Fine-tune or pre-train a model and it shows here.",
                    "你还没有任务。微调或预训练一个模型后，它会显示在这里。"),
    "myjobs.cols": ("Job id|What|Status|Progress", "任务编号|内容|状态|进度"),
    "myjobs.job_id": ("Job id", "任务编号"),
    "myjobs.open": ("Open in its tab", "在它的标签页中打开"),
    "myjobs.stop": ("Stop", "停止"),
    "myjobs.refresh": ("Refresh", "刷新"),
    "myjobs.stopping": ("Asked {job_id} to stop; what it learned so far is kept.",
                        "已请求停止 {job_id}；到目前为止学到的内容会保留。"),
    "myjobs.finished": ("{job_id} has already finished.", "{job_id} 已经结束。"),
    "myjobs.opened": ("{job_id} is shown in its tab.", "{job_id} 已在它的标签页中显示。"),
    "myjobs.status.queued": ("waiting", "排队中"),
    "myjobs.status.running": ("running", "运行中"),
    "myjobs.status.done": ("done", "已完成"),
    "myjobs.status.failed": ("failed", "失败"),
    "myjobs.status.cancelled": ("stopped", "已停止"),
    "myjobs.status.interrupted": ("interrupted: press Resume", "已中断：可点“继续训练”"),
    # ---- jobs that outlive the server (models/core/jobs.py resume), in every job tab ----
    "myjobs.resume": ("Resume", "继续训练"),
    "job.resume_this": ("Resume this job", "继续这个任务"),
    "myjobs.given_up": ("{job_id} will not be resumed; its checkpoint is deleted.",
                        "{job_id} 不会再继续训练，它的检查点已删除。"),
    "myjobs.resumed": ("{job_id} continues from its last checkpoint.",
                       "{job_id} 将从最近一次保存的检查点继续训练。"),
    "job.stopping": ("Stopping… the step under way finishes, then what it learned is saved.",
                     "正在停止……当前这一步结束后，会保存到目前为止学到的内容。"),
    "job.interrupted": ("Interrupted: the server stopped while this job ran. Press Resume to "
                        "continue from its last checkpoint.",
                        "已中断：这个任务运行时服务器停止了。点“继续训练”即可从最近一次保存的检查点接着训练。"),
    "err.job_not_interrupted": ("{job_id} was not interrupted (it is {status}): there is nothing "
                                "to resume.",
                                "{job_id} 并没有中断，不需要继续训练。"),
    "err.job_cannot_resume": ("{job_id} cannot be resumed: this kind of job is not rebuilt after "
                              "a restart. Start it again in its tab.",
                              "{job_id} 无法继续：这类任务在服务器重启后不能恢复。请在它的标签页里重新开始。"),
    # ---- a new password at first login ----
    "pw.intro": ("### Choose your own password\n\nYou logged in with a one-time password from "
                 "your teacher. Choose a password of your own (at least 8 characters) before "
                 "you start; the one-time password stops working.",
                 "### 设置你自己的密码\n\n你是用老师发的一次性密码登录的。开始之前，请设置一个你自己的密码"
                 "（至少 8 个字符）；之后一次性密码就不能再用了。"),
    "pw.new": ("New password", "新密码"),
    "pw.again": ("New password again", "再输入一次新密码"),
    "pw.save": ("Save my password", "保存我的密码"),
    "pw.saved": ("Your new password is saved: use it from now on.",
                 "新密码已保存：以后请用它登录。"),
    # ---- errors ----
    "err.login_needed": ("Please log in again (your account was removed or your session ended).",
                         "请重新登录（你的账号已被删除，或会话已结束）。"),
    "err.teacher_only": ("Only a teacher can do this.", "只有教师可以这样做。"),
    "err.quota_rate": ("You have run models {limit} times in the last minute, the class limit. "
                       "Try again in {seconds} seconds.",
                       "你在过去一分钟里已经运行了 {limit} 次模型，达到了全班的限额。请在 {seconds} 秒后再试。"),
    "err.quota_upload": ("This file is {size} MB; the class limit is {limit} MB. Upload a smaller "
                         "file (keep fewer rows).",
                         "这个文件有 {size} MB，全班的上限是 {limit} MB。请上传小一点的文件（少保留一些行）。"),
    "err.quota_jobs": ("You already have {count} job(s) queued or running, the class limit. Start "
                       "this one when {job_id} has finished (or stop it).",
                       "你已经有 {count} 个任务在排队或运行，达到了全班的限额。请等 {job_id} 结束（或停止它）后再开始。"),
    "err.model_not_allowed": ("Your teacher has not opened {name} for the class. Pick another "
                              "model from the list.",
                              "老师还没有向全班开放 {name}。请从列表中选择另一个模型。"),
    "err.user_bad_name": ("A user name has 1 to 40 characters, with no comma, colon or control "
                          "character.", "用户名为 1 到 40 个字符，不能包含逗号、冒号或控制字符。"),
    "err.user_bad_role": ("The role is teacher or student.", "角色只能是教师（teacher）或学生（student）。"),
    "err.user_short_password": ("A password has at least 8 characters.", "密码至少需要 8 个字符。"),
    "err.user_exists": ("There is already a user called {name!r}.", "已经有一个叫 {name!r} 的用户了。"),
    "err.user_unknown": ("There is no user called {name!r}.", "没有叫 {name!r} 的用户。"),
    "err.user_password_mismatch": ("The two passwords differ.", "两次输入的密码不一致。"),
    "err.teach_no_names": ("Type or upload at least one name.", "请至少输入或上传一个姓名。"),
    "err.teach_bad_limit": ("Each limit is a whole number from 0 to {high}.",
                            "每个限额都是 0 到 {high} 之间的整数。"),
    "err.password_change_needed": ("Choose your own password first: the one-time password you "
                                   "were given works only for that (the box at the top of the "
                                   "page, or the /change_password endpoint).",
                                   "请先设置你自己的密码：老师发的一次性密码只能用来做这件事（在页面顶部的框里设置，"
                                   "或调用 /change_password 接口）。"),
    "err.user_same_password": ("Choose a password different from the one-time password you were "
                               "given.", "请设置一个和老师发的一次性密码不同的密码。"),
    "err.teach_self": ("You cannot remove your own login while you are using it.",
                       "你不能删除自己正在使用的账号。"),
    # ---- notices of jobs ----
    "notice.training_paused": ("Your teacher paused training for the class; it goes on by itself "
                               "when they resume it.", "老师暂停了全班的训练；恢复后会自动继续。"),
    "notice.training_step_limit": ("This job reached the class limit of {steps} training steps "
                                   "and was stopped; what it learned so far is kept where the "
                                   "job saves it.",
                                   "这个任务达到了全班每个任务 {steps} 步的训练上限，已被停止；"
                                   "到目前为止学到的内容会按任务的方式保存。"),
    "notice.training_time_limit": ("This job reached the class limit of {minutes} minutes of "
                                   "training and was stopped; what it learned so far is kept where "
                                   "the job saves it.",
                                   "这个任务达到了全班每个任务 {minutes} 分钟的训练上限，已被停止；"
                                   "到目前为止学到的内容会按任务的方式保存。"),
}
