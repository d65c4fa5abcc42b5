"""Decode: read the document as a whole to link headings written in the applicant's own words.

Narratives answer the guide's seven categories in its order. A narrative whose top-level headings
are numbered 一、二、… but worded freely (三、把客户的声音带进车间) usually numbers them by the guide's
categories, skipped ones included (一、三、五…). Such a heading is linked to the category of its
ordinal when the content beneath agrees: over the whole document, the ordinal's category must
carry most of the content's weight; and a block whose content clearly belongs elsewhere keeps no
link (content overrides a heading).

Measured on writer-disjoint CV (docs/evaluation.md): grouped by writer, this links 12 of the 15
own-words-ordered narratives and none of the 10 out-of-order ones. A sequence model over
paragraph categories (forward–backward with monotone transitions) was tried as well; it moved
paragraph top-1 by +0.01 and mapping F1 by nothing, so it is not used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..segment import Heading, Passage, cn_number

# The content's agreement with the ordinals over the document (mean over blocks of the ordinal
# category's weight relative to the block's heaviest category), and the share of the heaviest
# category under which one block keeps no link. Chosen on train+dev writer-grouped CV.
MIN_AGREEMENT = 0.6
OVERRIDE_RATIO = 0.5
_ORDINAL = re.compile(r"^第?([一二三四五六七八九十]+)")


def _ordinals(headings: Sequence[Heading]) -> list[int] | None:
    """The categories numbered by the top-level headings, or None when they are not own-words
    Chinese-numbered headings in increasing order within the guide's categories."""
    values = []
    for heading in headings:
        match = _ORDINAL.match(heading.text)
        value = cn_number(match.group(1)) if match else None
        if heading.numbering not in ("cn", "chapter") or heading.section is not None or value is None:
            return None
        values.append(value)
    if values != sorted(set(values)):
        return None
    return values


def ordinal_headings(passages: Sequence[Passage], headings: Sequence[Heading]) -> list[tuple[int, int]] | None:
    """(passage index, ordinal) of the top-level headings when there are at least three and all are
    own-words Chinese-numbered headings in increasing order; None otherwise (nothing to link, so
    the caller need not score the content)."""
    by_start = {h.start: h for h in headings}
    top = [(i, by_start[p.start]) for i, p in enumerate(passages) if p.kind == "heading" and p.start in by_start]
    top = [(i, h) for i, h in top if h.level == 1]
    ordinals = _ordinals([h for _, h in top]) if len(top) >= 3 else None
    return None if ordinals is None else [(i, o) for (i, _), o in zip(top, ordinals, strict=True)]


def link_ordinal_headings(
    passages: Sequence[Passage],
    headings: Sequence[Heading],
    clause_scores: np.ndarray,
    clause_categories: Sequence[str],
    min_agreement: float = MIN_AGREEMENT,
    override_ratio: float = OVERRIDE_RATIO,
) -> tuple[Passage, ...]:
    """`passages` with `section` set to the heading's category for the unlinked text passages
    under an own-words numbered top-level heading, where the content agrees. `clause_scores`
    (passages x clauses) says what each passage is about; `clause_categories` names each
    column's category ("1" … "7")."""
    passages = tuple(passages)
    categories = sorted(set(clause_categories), key=lambda c: int(c) if c.isdigit() else 99)
    top = ordinal_headings(passages, headings)
    if top is None or max(o for _, o in top) > len(categories):
        return passages
    ordinals = [o for _, o in top]
    columns = np.asarray(clause_categories)
    bounds = [i for i, _ in top] + [len(passages)]
    blocks = []
    for k, ordinal in enumerate(ordinals):
        rows = [r for r in range(bounds[k] + 1, bounds[k + 1]) if passages[r].kind == "text"]
        if rows:
            # Weight of each category in the block: its best clause per passage, averaged.
            weight = np.asarray([clause_scores[rows][:, columns == c].max(axis=1).mean() for c in categories])
            blocks.append((bounds[k], rows, ordinal, weight))
    if not blocks:
        return passages
    agreement = np.mean([w[o - 1] / max(w.max(), 1e-9) for _, _, o, w in blocks])
    if agreement < min_agreement:
        return passages
    linked = list(passages)
    for heading, rows, ordinal, weight in blocks:
        if weight[ordinal - 1] < override_ratio * weight.max():
            continue  # the content says this block is about another category
        for r in [heading, *rows]:
            if linked[r].section is None:
                linked[r] = replace(linked[r], section=categories[ordinal - 1])
    return tuple(linked)
