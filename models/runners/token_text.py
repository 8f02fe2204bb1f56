"""Readable text for tokens, also for tokens that hold only part of a character.

Byte-level tokenizers (GPT-2, SmolLM2, the tiny models trained in the app) often split one
Chinese character or emoji into two or three tokens. Decoding such a token alone gives "�";
its raw form ("æ³ķ") means nothing to a reader. Here:

- `token_pieces(tok, ids)`: what each token of a text adds, in whole characters. A token that
  only starts a character shows PARTIAL; the token that completes it shows the character.
- `single_token_text(tok, id)`: one token out of context (a candidate next token): its text,
  or its bytes in hex ("⟨e6 b3⟩") when it is not a whole character.
- `whole_characters(text)`: generated text without broken characters or control bytes (the
  model stopped in the middle of a character, or emitted bytes that form none).
"""
from __future__ import annotations

import functools
import re

REPLACEMENT = "\ufffd"
PARTIAL = "◌"                         # shown for a token that is the first part of a character
_HEX_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def visible(text: str) -> str:
    """Spaces-only tokens, newlines and tabs made visible."""
    if text and not text.strip(" "):
        return text.replace(" ", "␣")
    return text.replace("\n", "↵").replace("\t", "⇥")


# control bytes, and code points no font draws as a character: private use (an untrained
# model's random bytes can spell U+E000..U+F8FF, which shows as a box or a vendor logo),
# noncharacters and lone surrogates
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef"
                      r"\U000f0000-\U0010ffff]")


def whole_characters(text: str) -> str:
    """Drop what is not a readable character: replacement characters left by a character cut
    in the middle, control bytes and private-use code points (an untrained byte-level model
    emits any byte)."""
    return _CONTROL.sub("", text.replace(REPLACEMENT, ""))


def token_pieces(tokenizer, ids) -> list[str]:
    """The text each token adds, in whole characters (see module docstring)."""
    out: list[str] = []
    pending: list[int] = []            # ids since the last whole character
    for tid in ids:
        pending.append(int(tid))
        text = tokenizer.decode(pending, skip_special_tokens=False)
        if text.endswith(REPLACEMENT) and len(pending) < 4:   # a character takes <= 4 bytes
            out.append(PARTIAL)
            continue
        pending = []
        if not text:
            raw = tokenizer.convert_ids_to_tokens(int(tid))
            text = raw if raw is not None else str(int(tid))
        out.append(visible(text.replace(REPLACEMENT, PARTIAL)))
    return out


@functools.lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: printable bytes stand for themselves, the other
    bytes for the characters 256, 257, ... in order (Radford et al. 2019, encoder.py)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[chr(b)] = b
        else:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def token_bytes(tokenizer, token_id: int) -> bytes | None:
    """The bytes a byte-level (GPT-2 style) or byte-fallback (<0xE6>) token stands for."""
    raw = tokenizer.convert_ids_to_tokens(int(token_id))
    if not raw:
        return None
    m = _HEX_BYTE.match(raw)
    if m:
        return bytes([int(m.group(1), 16)])
    table = _byte_decoder()
    if all(ch in table for ch in raw):
        return bytes(table[ch] for ch in raw)
    return None


def single_token_text(tokenizer, token_id: int) -> str:
    """One token shown alone: its text, or its bytes in hex when it is part of a character."""
    text = tokenizer.decode([int(token_id)], skip_special_tokens=False)
    if text and REPLACEMENT not in text:
        return visible(text)
    data = token_bytes(tokenizer, token_id)
    if data is not None:
        good = data.decode("utf-8", errors="ignore")
        if good and len(good.encode("utf-8")) == len(data):
            return visible(good)
        return "⟨" + " ".join(f"{b:02x}" for b in data) + "⟩"
    raw = tokenizer.convert_ids_to_tokens(int(token_id))
    return raw if raw is not None else str(int(token_id))
