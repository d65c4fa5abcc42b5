"""Render: reports for people, built from an Analysis and its schema-2 report dict.

* `render_reviewer_html`: a reviewer-assist report, one self-contained HTML file. It leads with the
  verdict (totals, the flags in words, the results comparisons), then the results-data table of
  7.1–7.3 (one row per measure, with an inline SVG sparkline, sortable by the page script), the
  coverage matrix with the evidence depth of each process clause (方 / 展 / 果), the per-clause
  evidence in context with near-misses and the sentence of each depth layer, the full text, and the
  provenance at the bottom.
* `render_applicant_html` / `render_applicant_markdown`: a gap report written to the applicant (您),
  in Chinese: which clauses are missing or weak, what evidence would cover them, which layers
  (做法 / 展开 / 结果) their evidence lacks, and the closest passages by paragraph number and
  opening words.

The pages are Jinja2 templates in `templates/` (autoescape on, StrictUndefined), filled from one
view model (report_view.build_view) that the HTML and Markdown share. The CSS files are inlined
into the page and the reviewer page's only script, templates/reviewer.js, is inlined too and
admitted by its hash in the page's Content-Security-Policy: no network and no other code. Nothing
time- or machine-dependent is written: the same report gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from .pipeline import Analysis
from .report_view import (
    APPLICANT_POSSIBLE,
    COMPARISON_KINDS,
    MAX_CLOSEST,
    MAX_EVIDENCE,
    POSSIBLE_LABEL,
    ReportView,
    build_view,
    plain,
)

__all__ = [
    "MAX_CLOSEST",
    "MAX_EVIDENCE",
    "md_escape",
    "render_applicant_html",
    "render_applicant_markdown",
    "render_reviewer_html",
]


@cache
def _loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("evidence_nlp", "templates")


# Both environments: undefined names fail loudly; whitespace as the templates are laid out.
_ENVIRONMENT_OPTIONS = {
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


@cache
def _html_env() -> jinja2.Environment:
    return jinja2.Environment(loader=_loader(), autoescape=True, **_ENVIRONMENT_OPTIONS)


@cache
def _markdown_env() -> jinja2.Environment:
    # Markdown has no autoescape of its own: every printed value goes through md_escape instead.
    return jinja2.Environment(loader=_loader(), autoescape=False, finalize=md_escape, **_ENVIRONMENT_OPTIONS)


@cache
def _asset(name: str) -> str:
    """A static file of the templates folder (CSS, the reviewer script), as text."""
    source, _, _ = _loader().get_source(_html_env(), name)
    return source


def _reviewer_js() -> str:
    return _asset("reviewer.js")


def __getattr__(name: str) -> Any:
    if name == "_REVIEWER_JS":  # the script as inlined, for the tests
        return _reviewer_js()
    raise AttributeError(name)


def _csp(script: str | None) -> str:
    scripts = "'none'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        scripts = f"'sha256-{digest}'"
    return f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _html(template: str, view: ReportView, css: str, script: str | None) -> str:
    # The CSS and the script are the package's own static files: inlined as they are.
    return (
        _html_env()
        .get_template(template)
        .render(
            view=view,
            css=Markup(_asset("base.css") + _asset(css)),
            script=Markup(script) if script is not None else None,
            csp=_csp(script),
            comparison_kinds=COMPARISON_KINDS,
            possible_label=POSSIBLE_LABEL,
            applicant_possible=APPLICANT_POSSIBLE,
        )
    )


def render_reviewer_html(analysis: Analysis, report: dict[str, Any]) -> str:
    """The reviewer-assist report: one self-contained HTML page."""
    return _html("reviewer.html.j2", build_view(analysis, report), "reviewer.css", _reviewer_js())


def render_applicant_html(analysis: Analysis, report: dict[str, Any]) -> str:
    """The gap report for the applicant, as one self-contained HTML page (no script)."""
    return _html("applicant.html.j2", build_view(analysis, report), "applicant.css", None)


# --- Markdown -------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def md_escape(text: Any) -> str:
    """Escape text for Markdown (CommonMark/GFM) placed after a line's own prefix (a list marker, a
    label, a heading mark): no emphasis, code, links, HTML, table cells or entities can come out of
    it, and it stays on one line. Marks that only act at the start of a line are left alone."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # no raw HTML, no entities
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_applicant_markdown(analysis: Analysis, report: dict[str, Any]) -> str:
    """The gap report for the applicant, as Markdown."""
    return (
        _markdown_env()
        .get_template("applicant.md.j2")
        .render(
            view=build_view(analysis, report),
            comparison_kinds=COMPARISON_KINDS,
            applicant_possible=APPLICANT_POSSIBLE,
            plain=plain,
        )
    )
