"""What may be published: the one rule for personal data and for spreadsheet formulas.

- :func:`is_personal_column`: column names that hold personal data (phone, e-mail,
  a person's name, date of birth); such columns are never read or written.
- :func:`mask_personal_text`: phone numbers and e-mail addresses inside free text are
  replaced by a marker, and counted.
- :func:`neutralise_formula`: text that a spreadsheet would run as a formula gets a
  leading apostrophe; every CSV the project writes goes through it.
- :func:`strip_commit_hashes`: git commit hashes in source notes ("owner/repo @ 1a2b3c...
  : path") are dropped from published text; the full provenance, hashes included, stays
  in the imported bundle's ``data/raw/SOURCES.md``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "FORMULA_START",
    "is_personal_column",
    "mask_personal_text",
    "neutralise_formula",
    "strip_commit_hashes",
]

#: A git commit hash as source notes write it: " @ " then 7 to 40 hex digits.
_COMMIT = re.compile(r"\s*@\s*[0-9a-f]{7,40}\b(\s*\([^)]*\))?")

#: Matched against a column name lower-cased with every run of spaces, underscores,
#: hyphens and other punctuation made one space ("Main_Tel" -> "main tel").
_PERSONAL = re.compile(
    r"(phone|mobile|\bmob\b|landline|\bfax\b|\btel(no|num)?\b|e ?mail|contact|"
    r"surname|\b(first|last|fore|given|family|person|owner|contact) ?names?\b|"
    r"\bnamed? ?person|\bmanager|key ?holder|\bdob\b|date ?of ?birth|\bbirth ?date)"
)

#: An e-mail address.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

#: A UK-style phone number: +44 or 0, then 9-10 more digits with optional spaces,
#: dots, hyphens or brackets (01582 546000, (01582) 546-000, +44 1582 546000, 07700900123).
_PHONE = re.compile(r"(?<![\w])(?:\+44\s?\(?0?\)?|\(?0)(?:[\s().-]*\d){9,10}(?![\w])")

#: What replaces a masked phone number or e-mail address.
MASK: str = "[removed]"

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def is_personal_column(column: str) -> bool:
    """Return whether a column name looks like personal data (phone, e-mail, contact).

    Parameters
    ----------
    column
        A column name.

    Returns
    -------
    bool
        True for names such as ``phone``, ``Telephone``, ``Main_Tel``, ``Mob``,
        ``email``, ``Contact Phone``, ``First Name``, ``Person Name``, ``Date of
        Birth``; False for the register's own columns (``name``, ``address``...) and
        for words that merely contain the letters (``Hotel``, ``Telford``).
    """
    key = " ".join(re.sub(r"[^a-z0-9]+", " ", str(column).lower()).split())
    return bool(_PERSONAL.search(key))


def mask_personal_text(text: str) -> tuple[str, int]:
    """Replace phone numbers and e-mail addresses in free text.

    Parameters
    ----------
    text
        Any text (an address, a note).

    Returns
    -------
    tuple of (str, int)
        The text with each phone number and e-mail address replaced by :data:`MASK`,
        and how many were replaced.
    """
    out, n_mail = _EMAIL.subn(MASK, text)
    out, n_phone = _PHONE.subn(MASK, out)
    return out, n_mail + n_phone


def neutralise_formula(value: Any) -> Any:
    """Return ``value`` with a leading apostrophe if a spreadsheet would run it as a formula.

    Parameters
    ----------
    value
        A cell value; only text starting with one of :data:`FORMULA_START` changes.

    Returns
    -------
    Any
        The safe value.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def strip_commit_hashes(text: str) -> str:
    """Return ``text`` without git commit hashes ("repo @ 1a2b3c4 : path" -> "repo : path").

    Parameters
    ----------
    text
        Any text, e.g. a register row's ``source``.

    Returns
    -------
    str
        The text without " @ <hash>" (and a branch note in brackets right after it).
    """
    return _COMMIT.sub("", text)
