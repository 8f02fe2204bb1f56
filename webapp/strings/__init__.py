"""Per-tab string tables, merged into webapp.i18n.STRINGS. Each module defines
STRINGS = {key: (English, Chinese)}; keys start with the tab's prefix (att., app., ft., pre., gen.)."""
from webapp.strings import applications, attention, finetune, generate, pretrain, why
from webapp.strings import teacher

TABLES = [attention.STRINGS, applications.STRINGS, finetune.STRINGS, pretrain.STRINGS,
          generate.STRINGS, why.STRINGS, teacher.STRINGS]
