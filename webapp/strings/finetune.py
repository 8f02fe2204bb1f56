"""User-visible strings of the finetune tab(s): key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
}
