"""Text normalisation shared by keyword rules, lead signals, sentiment and extraction.

Customers write "nesesito ayudaaa!!", "NO FUNCIONA 😡", "cuanto sale?": rules compare the
*folded* form (lower case, no accents, repeated letters squeezed, emojis kept apart) so that one
rule covers every spelling.
"""

from __future__ import annotations

import re
import unicodedata

_REPEATS = re.compile(r"([a-z])\1{2,}")
_WORD = re.compile(r"[a-z0-9ñ]+")
_SPACES = re.compile(r"\s+")


def strip_accents(text: str) -> str:
    """Remove combining marks (á→a, ü→u) but keep ñ, which changes meaning in Spanish."""
    decomposed = unicodedata.normalize("NFD", text)
    out: list[str] = []
    for i, char in enumerate(decomposed):
        if unicodedata.combining(char):
            # ñ is n + U+0303: keep the tilde on an n so "año" and "ano" stay apart.
            if char == "\u0303" and i > 0 and decomposed[i - 1] in "nN":
                out.append(char)
            continue
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def fold(text: str) -> str:
    """Lower-case, accent-free, squeezed form used for every rule comparison."""
    folded = strip_accents(text.lower())
    folded = _REPEATS.sub(r"\1\1", folded)
    return _SPACES.sub(" ", folded).strip()


def words(text: str) -> list[str]:
    """The folded words of ``text`` (letters and digits only; emojis and punctuation dropped)."""
    return _WORD.findall(fold(text))


def is_emoji(char: str) -> bool:
    """True for pictographs and symbols customers use as emotion markers."""
    return unicodedata.category(char) == "So" or 0x1F300 <= ord(char) <= 0x1FAFF
