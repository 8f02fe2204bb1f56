"""User-visible strings of the pretrain tab(s): key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
}
