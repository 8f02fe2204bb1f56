"""User-visible strings of the attention tab(s): key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
}
