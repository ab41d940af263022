"""What may be published: the one rule for personal data and for spreadsheet formulas.

- :func:`is_personal_column`: column names that hold personal data (phone, e-mail,
  a person's name, date of birth); such columns are never read or written.
- :func:`mask_personal_text`: phone numbers and e-mail addresses inside free text are
  replaced by a marker, and counted.
- :func:`neutralise_formula`: text that a spreadsheet would run as a formula gets a
  leading apostrophe.

These are the rules; :mod:`nwm_geo._publish` applies them to every file the project
writes.
- :func:`strip_commit_hashes`: git commit hashes in source notes ("owner/repo @ 1a2b3c...
  : path") are dropped from published text; the full provenance, hashes included, stays
  in the imported bundle's ``data/raw/SOURCES.md``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "FORMULA_START",
    "MASK",
    "MAX_CELL_CHARS",
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

#: The longest text a cell may hold (characters). Longer input is refused where it is read
#: (:func:`nwm_geo.data.read_table`, scenario files), so no input can hold the project lock
#: for minutes; masking itself is linear in the text's length.
MAX_CELL_CHARS: int = 20_000

#: An e-mail address's domain, from just after the "@": labels of letters (any script),
#: digits and hyphens, a dot, and a top-level domain of two or more letters. Matched at
#: each "@" only, within 255 characters, so the scan is linear in the text's length.
_DOMAIN = re.compile(r"[^\W_](?:[\w-]{0,62})(?:\.[\w-]{1,63})*\.[^\W\d_]{2,63}(?![\w-])")

#: An e-mail address's local part, read backwards from the "@" (at most 64 characters,
#: after an optional space: "name @example.org").
_LOCAL_REVERSED = re.compile(r" ?[\w.%+'-]{1,64}")

#: An "@" that may start a domain.
_AT = re.compile(r"@(?=[^\W_])")

#: A phone number, UK or international. National: 0 then 9-10 more digits (01582 546000,
#: (01582) 546-000, 07700900123). International: + or 00, a country code of 1-3 digits,
#: then 6-12 digits (+44 1582 546000, +44 (0)1582 546000, 0044 1632 960003,
#: +33 1 99 00 12 34). Up to three separators (spaces, dots, hyphens, brackets) between
#: digits. Every repetition is bounded, so each start position costs a constant: the
#: whole search is linear in the text's length (no catastrophic backtracking). A decimal
#: number is not a phone number: "0." never starts one, and digits right after "1." or
#: "0." (a fraction: the coordinate -0.4123456789 in a map page) never start one.
#: Written so that it starts by consuming one of "+", "0", "(" (every number starts with
#: one): the regex engine then skips ahead to those characters instead of trying the
#: look-behinds at every position (about 7x faster on a map page). The look-behinds,
#: moved one character on, test the same characters before the number; the branches are
#: tried in the order of ``(?:\+|00)...|\(?0...``, so the matches are the same.
_PHONE = re.compile(
    r"[+0(](?<![\w+].)(?<!\d\..)"  # the first character; nothing of a word or decimal before
    r"(?:(?<=\+)\s?\(?\d{1,3}\)?(?:[\s().-]{0,3}\d){6,12}"  # +44 ...
    r"|(?<=0)(?:0\s?\(?\d{1,3}\)?(?:[\s().-]{0,3}\d){6,12}"  # 0044 ...
    r"|(?!\.)(?:[\s().-]{0,3}\d){9,10})"  # 01582 ...
    r"|(?<=\()0(?!\.)(?:[\s().-]{0,3}\d){9,10})"  # (01582) ...
    r"(?![\w])"
)

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


def _email_spans(text: str) -> list[tuple[int, int]]:
    """Where the e-mail addresses are: found from each "@", in linear time.

    Each "@" costs a bounded amount of work: the local part is matched backwards (at
    most 65 characters) and the domain forwards (at most 255).
    """
    spans: list[tuple[int, int]] = []
    floor = 0  # an address never starts inside the previous one
    reverse = None
    n = len(text)
    for at_match in _AT.finditer(text):
        at = at_match.start()
        if at < floor:
            continue
        domain = _DOMAIN.match(text, at + 1, min(n, at + 256))
        if domain is None:
            continue
        if reverse is None:
            reverse = text[::-1]
        local = _LOCAL_REVERSED.match(reverse, n - at, n - floor)
        if local is None or not local.group().strip():
            continue
        spans.append((n - local.end(), domain.end()))
        floor = domain.end()
    return spans


def mask_personal_text(text: str) -> tuple[str, int]:
    """Replace phone numbers and e-mail addresses in free text, in linear time.

    The formats covered are listed in ``docs/reliability.md``: UK numbers (``01582
    546000``, ``(01582) 546-000``, ``+44 (0)1582 546000``, ``0044 1632 960003``),
    international ones (``+33 1 99 00 12 34``), and e-mail addresses with letters of any
    script (``name@exämple.org``) or a space before the "@" (``name @example.org``).
    One megabyte of text is masked in well under a second (``benchmarks/bench_mask.py``).

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
    if "@" in text:
        spans = _email_spans(text)
        if spans:
            parts, last = [], 0
            for a, b in spans:
                parts += [text[last:a], MASK]
                last = b
            text = "".join([*parts, text[last:]])
        n_mail = len(spans)
    else:
        n_mail = 0
    out, n_phone = _PHONE.subn(MASK, text)
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
