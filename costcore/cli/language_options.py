"""Command-line options for a video's language, shared by ``convert``, ``track`` and ``run``."""

from __future__ import annotations

import argparse

from costcore.language import LanguageAttributes, LanguageForm

WORDS_FORMAT = '"major class,root class,colour,initial position"'


def attribute_words(value: str) -> LanguageAttributes:
    """argparse type of ``--language-attributes``: the four words, comma-separated, all set."""
    try:
        return LanguageAttributes.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_attribute_words(parser: argparse.ArgumentParser, default_help: str) -> None:
    """``--language-attributes WORDS``; ``default_help`` says what is used without it."""
    parser.add_argument(
        "--language-attributes",
        type=attribute_words,
        metavar="WORDS",
        help=f'VLT\'s four attribute words {WORDS_FORMAT}, e.g. "airplane,vehicle,white,center" '
        f"({default_help})",
    )


def add_language_form(parser: argparse.ArgumentParser, default_help: str, default=None) -> None:
    """``--language-form sentence|attributes``: what the engine reads."""
    parser.add_argument(
        "--language-form",
        choices=[form.value for form in LanguageForm],
        default=default,
        help=f"what the engine reads: the sentence or the attribute words ({default_help})",
    )
