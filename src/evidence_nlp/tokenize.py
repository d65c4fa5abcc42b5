"""jieba word segmentation with the domain user dictionary (corpus/jieba_userdict.txt)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .resources import user_dictionary_path

_WORD = re.compile(r"[\w\u4e00-\u9fff]")


class Tokenizer:
    """A private jieba instance (no global state) that loads its dictionaries on first use."""

    def __init__(self, user_dictionary: str | Path | None = None) -> None:
        self.user_dictionary = user_dictionary
        self._jieba = None

    def _instance(self):
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            path = Path(self.user_dictionary) if self.user_dictionary else user_dictionary_path()
            if path.exists():
                tokenizer.load_userdict(str(path))
            self._jieba = tokenizer
        return self._jieba

    def words(self, text: str) -> list[str]:
        """Content words, lower-cased; punctuation and whitespace dropped."""
        return [w.lower() for w in self._instance().lcut(text) if _WORD.search(w)]

    def __getstate__(self) -> dict:
        # jieba instances hold large dictionaries; rebuild them in worker processes instead.
        return {"user_dictionary": self.user_dictionary, "_jieba": None}
