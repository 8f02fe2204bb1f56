"""User-visible strings of the applications tab(s): key -> (English, Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
}
