"""Per-tab string tables, merged into webapp.i18n.STRINGS. Each module defines
STRINGS = {key: (English, Chinese)}; keys start with the tab's prefix (att., app., ft., pre., gen.)."""
from webapp.strings import applications, attention, finetune, generate, pretrain, why
from webapp.strings import teacher

TABLES = [attention.STRINGS, applications.STRINGS, finetune.STRINGS, pretrain.STRINGS,
          generate.STRINGS, why.STRINGS, teacher.STRINGS]

from webapp.strings import finetune_tokens  # noqa: E402  (the Fine-tune tab's token sub-tab)
TABLES.append(finetune_tokens.STRINGS)

from webapp.strings import analysis  # noqa: E402  (Applications -> Analyse meaning)
TABLES.append(analysis.STRINGS)

from webapp.strings import sft  # noqa: E402  (Fine-tune -> Teach the language model)
TABLES.append(sft.STRINGS)

from webapp.strings import engine  # noqa: E402  (the serving engine: app.py --engine-url)
TABLES.append(engine.STRINGS)

from webapp.strings import jobs  # noqa: E402  (one start per click; which job made a model)
TABLES.append(jobs.STRINGS)
