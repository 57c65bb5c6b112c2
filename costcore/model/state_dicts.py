"""Strict state-dict checks shared by both checkpoint formats.

A checkpoint that does not fit the model must fail loudly and usefully: every missing,
unexpected or wrongly shaped tensor is named, and the error names the file.
"""

from __future__ import annotations

from pathlib import Path

import torch

from costcore.errors import FormatError

_MAX_NAMES = 25


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMES])
    more = len(names) - _MAX_NAMES
    return shown + (f" (and {more} more)" if more > 0 else "")


def check_state_dict(
    path: str | Path,
    expected: dict[str, torch.Tensor],
    found: dict[str, torch.Tensor],
    what: str,
) -> None:
    """Raise one FormatError naming every key or shape that differs from ``expected``."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong_shape = sorted(
        f"{key} {tuple(found[key].shape)} != {tuple(expected[key].shape)}"
        for key in set(expected) & set(found)
        if found[key].shape != expected[key].shape
    )
    problems = []
    if missing:
        problems.append(f"missing tensors: {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors: {_names(unexpected)}")
    if wrong_shape:
        problems.append(f"wrong shapes (file != model): {_names(wrong_shape)}")
    if problems:
        raise FormatError(path, f"does not match {what}; " + "; ".join(problems))


def copy_into(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> None:
    """Copy checked tensors into the model's (``expected`` comes from ``model.state_dict()``)."""
    with torch.no_grad():
        for key, target in expected.items():
            target.copy_(found[key])
