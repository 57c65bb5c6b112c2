"""Counting the word pieces of a description, to warn before COST truncates it.

COST feeds ``[CLS] + at most 38 word pieces + [SEP]`` to BERT. With a local BERT tokenizer
configured, the count is exact; otherwise a light approximation of BERT's basic + WordPiece
tokenisation is used (punctuation splits off, long or rare words break into several pieces),
and the panel says "about".
"""

from __future__ import annotations

import re
import threading
from typing import Any

MAX_WORD_PIECES = 38
_TOKENS = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]")


def approximate_word_pieces(text: str) -> int:
    """A cheap estimate of ``len(bert_tokenizer.tokenize(text))`` (usually within ±10 %)."""
    count = 0
    for token in _TOKENS.findall(text):
        if token[0].isalpha():
            # common English words are one piece; longer ones split roughly every 4-5 letters
            count += 1 if len(token) <= 8 else 1 + (len(token) - 5) // 5
        elif token[0].isdigit():
            count += 1 if len(token) <= 4 else (len(token) + 2) // 3
        else:
            count += 1
    return count


class WordPieceCounter:
    """Exact counts from a local tokenizer folder when given (loaded in the background)."""

    def __init__(self, tokenizer_path: str = "") -> None:
        self._tokenizer: Any = None
        self.error = ""
        if tokenizer_path:
            threading.Thread(
                target=self._load, args=(tokenizer_path,), name="tokenizer-load", daemon=True
            ).start()

    @property
    def exact(self) -> bool:
        return self._tokenizer is not None

    def _load(self, path: str) -> None:
        try:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except Exception as error:  # noqa: BLE001 - fall back to the approximation
            self.error = f"tokenizer {path} not loaded: {error}"

    def count(self, text: str) -> int:
        tokenizer = self._tokenizer
        if tokenizer is not None:
            return len(tokenizer.tokenize(text.strip()))
        return approximate_word_pieces(text)
