"""Command-line help in words a user types (shared by cli.py and cli_feedback.py)."""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _UntypedArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the argument's name (FILES, INPUT_DIR) says what it takes


def _plain_metavars(params: list[Any], ctx: Any) -> list[Any]:
    """Help in words a user types, not Python types: no `<bool>` for flags, `PATH` rather than
    `<path>`, `FILES...` rather than `<list[Path]>`."""
    for param in params:
        if param.metavar is not None:
            continue
        if isinstance(param, TyperArgument):
            param.metavar = (param.name or "").upper()
            param.__class__ = _UntypedArgument
        elif isinstance(param, TyperOption) and (param.is_flag or param.count):
            param.metavar = ""
        else:
            label = param.display_type(ctx).strip("<>")
            if "|" not in label:  # a choice stays as its values, e.g. text|json
                label = re.sub(r"^list\[(\w+)\]$", r"\1", label).split(" ")[0].upper()
                label = {"STR": "TEXT", "INT": "INTEGER"}.get(label, label)
            param.metavar = label
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx), ctx)


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx), ctx)
