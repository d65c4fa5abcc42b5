"""Segment: split a Document into paragraphs, headings, sentences and passages for matching.

Every span keeps (start, end) offsets into Document.text, so `text[start:end]` is the span.
Headings that name or number a guideline category/item link the passages under them to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def _cn_number(value: str) -> int:
    """Chinese numerals up to 99 (一 … 十九 … 九十九)."""
    if value == "十":
        return 10
    if "十" in value:
        tens, _, ones = value.partition("十")
        return (_CN_DIGITS.index(tens) if tens else 1) * 10 + (_CN_DIGITS.index(ones) if ones else 0)
    return _CN_DIGITS.index(value)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
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


def _numbering(line: str) -> tuple[str | None, str, str]:
    """(style, number, rest of line) for a numbered line, else (None, '', line)."""
    for style, pattern in _NUMBERING:
        match = pattern.match(line)
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
        if styled:
            return True
        if not line or len(line) > _HEADING_MAX_CHARS or line[-1] in _CLAUSE_PUNCT:
            return False
        style, _, rest = _numbering(line)
        if style is not None:
            # "1. 严格执行标准，规范操作" is a list item, not a heading: headings carry no clause punctuation.
            return bool(rest) and not any(p in rest for p in "，,；;。") and len(rest) <= 30
        return self._title_match(line) is not None and len(line) <= 16

    def _title_match(self, text: str) -> str | None:
        core = re.sub(r"[\s:：、.．]+", "", text)
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
            ordinal = _cn_number(number) if style == "cn_paren" else int(number)
            if 1 <= ordinal <= len(items) and "." not in parent:
                return items[ordinal - 1]
        return None

    # -- paragraphs -----------------------------------------------------------------------
    def _lines(self, text: str) -> list[Span]:
        return [Span(*_trim(text, m.start(), m.end())) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]

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
        """A paragraph as one passage, or as groups of whole sentences when it is long."""
        if span.end - span.start <= self.max_passage_chars:
            return [span]
        chunks: list[Span] = []
        start = end = None
        for sentence in split_sentences(text, span.start, span.end):
            if start is not None and sentence.end - start > self.target_passage_chars:
                chunks.append(Span(start, end))
                start = None
            if start is None:
                start = sentence.start
            end = sentence.end
        if start is not None:
            chunks.append(Span(start, end))
        return chunks
