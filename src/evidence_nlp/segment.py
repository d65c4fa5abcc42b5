"""Segment: split a Document into paragraphs, headings, sentences and passages for matching.

Every span keeps (start, end) offsets into Document.text, so `text[start:end]` is the span.
Headings that name or number a guideline category/item link the passages under them to it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from . import cues
from .guideline import Guideline
from .ingest import Document

_CN_DIGITS = "零一二三四五六七八九十"
# Heading numbering styles, from coarse to fine as they usually nest in Chinese documents.
_NUMBERING = [
    ("chapter", re.compile(r"^第([一二三四五六七八九十]+)(?:章|节|部分|篇|部)[、：:\s]*")),
    ("cn", re.compile(r"^([一二三四五六七八九十]+)\s*[、.．]\s*")),
    ("cn_paren", re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]\s*")),
    ("dotted", re.compile(r"^(\d+\.\d+(?:\.\d+)*)(?![\d%])\s*[、.．]?\s*")),
    ("arabic", re.compile(r"^(\d+)\s*[、.．](?!\d)\s*")),
    ("arabic_paren", re.compile(r"^[（(](\d+)[）)]\s*")),
    ("circled", re.compile(r"^([①-⑳])\s*")),
    ("markdown", re.compile(r"^(#{1,6})\s+")),
]
_SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’」』）)]*")
_CLAUSE_PUNCT = "。！？；!?;，,：:"
_SOFT_BREAK = re.compile(r"[，,、：:；;\s]+")
_HEADING_MAX_CHARS = 40


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Heading:
    start: int
    end: int
    text: str
    level: int
    numbering: str | None  # style key from _NUMBERING, None for unnumbered/docx-styled headings
    section: str | None  # linked guideline item ("3.2") or category ("3"), None if not linked


@dataclass(frozen=True)
class Passage:
    id: str
    start: int
    end: int
    text: str
    kind: str  # "heading" | "text"
    section: str | None
    paragraph: int  # index into Segmentation.paragraphs


@dataclass(frozen=True)
class Segmentation:
    paragraphs: tuple[Span, ...]
    headings: tuple[Heading, ...]
    passages: tuple[Passage, ...]


_CN_NUMERAL = re.compile(r"([一二三四五六七八九]?)(十?)([一二三四五六七八九]?)")


def cn_number(value: str) -> int | None:
    """Chinese numerals 一 … 十九 … 九十九; None for malformed ones ("三一", "十十")."""
    match = _CN_NUMERAL.fullmatch(value)
    if not value or match is None:
        return None
    tens, ten, ones = match.groups()
    if not ten:
        return None if ones else _CN_DIGITS.index(tens)
    return (_CN_DIGITS.index(tens) if tens else 1) * 10 + (_CN_DIGITS.index(ones) if ones else 0)


# Zero-width and other invisible format characters (ZWSP, ZWNJ/ZWJ, bidi marks, word joiner, BOM,
# soft hyphen) that text pasted from web pages or several files carries: trimmed like whitespace.
_INVISIBLE = frozenset("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")


def _blank(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and _blank(text[start]):
        start += 1
    while end > start and _blank(text[end - 1]):
        end -= 1
    return start, end


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentences inside text[start:end]: split after end punctuation and at line breaks."""
    spans = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        line_start = start + line.start()
        cursor = line_start
        for match in _SENTENCE_END.finditer(line.group()):
            cut = line_start + match.end()
            s, e = _trim(text, cursor, cut)
            if e > s:
                spans.append(Span(s, e))
            cursor = cut
        s, e = _trim(text, cursor, start + line.end())
        if e > s:
            spans.append(Span(s, e))
    return spans


# Full-width ASCII variants (１．２, （３）, ％) and the ideographic space, one character each, so
# a line numbered in full-width digits reads as its half-width twin and offsets stay valid.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _latin_alnum(ch: str) -> bool:
    """A Latin letter or digit, half- or full-width."""
    ch = ch.translate(_HALF_WIDTH)
    return ch.isascii() and ch.isalnum()


def _numbering(line: str) -> tuple[str | None, str, str]:
    """(style, number, rest of line) for a numbered line, else (None, '', line). The number is
    given in half-width digits; the rest is the line's own text."""
    folded = line.translate(_HALF_WIDTH)
    for style, pattern in _NUMBERING:
        match = pattern.match(folded)
        if match:
            return style, match.group(1), line[match.end() :].strip()
    return None, "", line


class Segmenter:
    """Split documents into passages. Parameters follow scikit-learn style: stored, not changed.

    max_passage_chars: paragraphs longer than this are split into groups of whole sentences of
    about `target_passage_chars`, so one passage rarely mixes many clauses.
    """

    def __init__(self, guideline: Guideline, max_passage_chars: int = 400, target_passage_chars: int = 250) -> None:
        self.guideline = guideline
        self.max_passage_chars = max_passage_chars
        self.target_passage_chars = target_passage_chars
        self._titles = self._title_index(guideline)

    @staticmethod
    def _title_index(guideline: Guideline) -> list[tuple[str, str]]:
        """(title, section id) pairs, longest first, so '目标与计划的实施' wins over '目标与计划'."""
        pairs = [(item.title, item.id) for item in guideline.items.values()]
        pairs += [(cat.title, cat.id) for cat in guideline.categories]
        return sorted(pairs, key=lambda pair: -len(pair[0]))

    # -- headings -------------------------------------------------------------------------
    def _is_heading_line(self, line: str, styled: bool) -> bool:
        if styled:  # a docx heading style, unless the "heading" is a whole narrative
            return len(line) <= self.max_passage_chars
        if not line or len(line) > _HEADING_MAX_CHARS or line[-1] in _CLAUSE_PUNCT:
            return False
        style, _, rest = _numbering(line)
        if style is not None:
            # "1. 严格执行标准，规范操作" is a list item, not a heading: headings carry no clause punctuation.
            return bool(rest) and not any(p in rest for p in "，,；;。") and len(rest) <= 30
        return self._title_match(line) is not None and len(line) <= 16

    def _title_match(self, text: str) -> str | None:
        # Full-width forms, zero-width characters and traditional characters (顧客滿意) fold as in the cues.
        core = re.sub(r"[\s:：、.．]+", "", cues.fold_width(text))
        for title, section in self._titles:
            if core == title or (len(title) >= 4 and title in core):
                return section
        return None

    def _link(self, style: str | None, number: str, rest: str, parent: str | None) -> str | None:
        """Guideline section a heading names: by title, by explicit item number, or by ordinal."""
        by_title = self._title_match(rest) if rest else None
        if style == "dotted":
            candidate = ".".join(number.split(".")[:2])
            if candidate in self.guideline.items and (
                by_title is None or by_title.split(".")[0] == candidate.split(".")[0]
            ):
                return by_title if by_title and "." in by_title else candidate
        if by_title is not None:
            return by_title
        if style == "arabic" and not rest and number in {c.id for c in self.guideline.categories}:
            return number
        # "（二）" under a linked category: the category's second item.
        if parent is not None and style in ("cn_paren", "arabic_paren", "arabic"):
            category = parent.split(".")[0]
            items = next((c.item_ids for c in self.guideline.categories if c.id == category), ())
            ordinal = cn_number(number) if style == "cn_paren" else int(number)
            if ordinal is not None and 1 <= ordinal <= len(items) and "." not in parent:
                return items[ordinal - 1]
        return None

    # -- paragraphs -----------------------------------------------------------------------
    def _lines(self, text: str) -> list[Span]:
        spans = (Span(*_trim(text, m.start(), m.end())) for m in re.finditer(r"[^\n]+", text))
        return [span for span in spans if span.end > span.start]

    def segment(self, document: Document) -> Segmentation:
        text = document.text
        styled = {start for start, _ in document.heading_spans}
        # Paragraphs: blocks separated by blank lines; inside a block, a heading line stands alone,
        # and a line ending a sentence ends the paragraph (many narratives use single newlines).
        paragraphs: list[tuple[Span, bool]] = []
        current: list[Span] = []

        def flush() -> None:
            if current:
                paragraphs.append((Span(current[0].start, current[-1].end), False))
                current.clear()

        previous_end = 0
        for line in self._lines(text):
            blank_before = "\n" in text[previous_end : line.start] and text[previous_end : line.start].count("\n") >= 2
            line_text = text[line.start : line.end]
            if blank_before:
                flush()
            if self._is_heading_line(line_text, line.start in styled):
                flush()
                paragraphs.append((line, True))
            else:
                if current and text[current[-1].end - 1] in "。！？!?":
                    flush()
                current.append(line)
            previous_end = line.end
        flush()

        headings: list[Heading] = []
        passages: list[Passage] = []
        style_stack: list[str] = []
        section_stack: list[tuple[int, str | None]] = []  # (level, section) of enclosing headings
        for index, (span, is_heading) in enumerate(paragraphs):
            value = text[span.start : span.end]
            if is_heading:
                style, number, rest = _numbering(value)
                key = style or ("styled" if span.start in styled else "title")
                if key in style_stack:
                    del style_stack[style_stack.index(key) + 1 :]
                else:
                    style_stack.append(key)
                level = style_stack.index(key) + 1
                while section_stack and section_stack[-1][0] >= level:
                    section_stack.pop()
                parent = next((s for _, s in reversed(section_stack) if s), None)
                section = self._link(style, number, rest if style else value, parent)
                section_stack.append((level, section))
                headings.append(Heading(span.start, span.end, value, level, style, section))
                passages.append(Passage("", span.start, span.end, value, "heading", section, index))
                continue
            section = next((s for _, s in reversed(section_stack) if s), None)
            for chunk in self._chunks(text, span):
                passages.append(
                    Passage("", chunk.start, chunk.end, text[chunk.start : chunk.end], "text", section, index)
                )
        numbered = tuple(
            Passage(f"p{i}", p.start, p.end, p.text, p.kind, p.section, p.paragraph)
            for i, p in enumerate(passages, start=1)
        )
        return Segmentation(tuple(span for span, _ in paragraphs), tuple(headings), numbered)

    def _chunks(self, text: str, span: Span) -> list[Span]:
        """A paragraph as one passage, or as groups of whole sentences when it is long. No passage
        is longer than max_passage_chars: an over-long sentence is cut first (see _pieces)."""
        if span.end - span.start <= self.max_passage_chars:
            return [span]
        chunks: list[Span] = []
        start = end = None
        for sentence in split_sentences(text, span.start, span.end):
            for piece in self._pieces(text, sentence):
                if start is not None and piece.end - start > self.target_passage_chars:
                    chunks.append(Span(start, end))
                    start = None
                if start is None:
                    start = piece.start
                end = piece.end
        if start is not None:
            chunks.append(Span(start, end))
        return chunks

    def _pieces(self, text: str, sentence: Span) -> list[Span]:
        """A sentence longer than max_passage_chars (a run-on line without 。！？), cut after the
        last comma, colon or space that keeps a piece within the limit, else at the limit."""
        pieces: list[Span] = []
        start = sentence.start
        while sentence.end - start > self.max_passage_chars:
            limit = start + self.max_passage_chars
            cut = None
            for match in _SOFT_BREAK.finditer(text, start + self.max_passage_chars // 2, limit):
                cut = match.end()
            if cut is None:
                cut = limit
                # Keep combining marks and variation selectors with their base character, and a
                # Latin word or number whole.
                while cut - start > self.max_passage_chars // 2 and (
                    unicodedata.category(text[cut]).startswith("M")
                    or (_latin_alnum(text[cut - 1]) and _latin_alnum(text[cut]))
                ):
                    cut -= 1
            s, e = _trim(text, start, cut)
            if e > s:
                pieces.append(Span(s, e))
            start = cut
        s, e = _trim(text, start, sentence.end)
        if e > s:
            pieces.append(Span(s, e))
        return pieces
