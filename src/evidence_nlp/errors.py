"""Errors a user can act on. The CLI prints them as one line; anything else is a bug."""

from __future__ import annotations


class EvidenceError(Exception):
    """Base class: `str(err)` is a complete, user-facing one-line message."""


class GuidelineError(EvidenceError):
    """The guideline file is missing or does not follow the schema."""


class IngestError(EvidenceError):
    """An input document cannot be read; the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class OutputFolderError(EvidenceError):
    """The output folder is being written by another batch, or cannot be created or locked."""
