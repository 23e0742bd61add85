"""The Indonesian catalogue is complete and its compiled form is up to date."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tracker" / "translations" / "id" / "LC_MESSAGES"
KEYWORDS = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("tracker/**.py", "python"), ("templates/**.html", "jinja2")]


def msgid(message) -> str:
    return message.id[0] if isinstance(message.id, (tuple, list)) else message.id


def msgstr(message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)


def test_every_text_in_the_code_has_an_indonesian_translation() -> None:
    with (CATALOGUE / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    translated = {msgid(m) for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
    used = {
        (found[2][0] if isinstance(found[2], tuple) else found[2])
        for found in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS)
    }
    assert used - translated == set()


def test_the_compiled_catalogue_matches_the_source() -> None:
    with (CATALOGUE / "messages.po").open("rb") as f:
        source = {msgid(m): msgstr(m) for m in read_po(f) if m.id}
    with (CATALOGUE / "messages.mo").open("rb") as f:
        compiled = {msgid(m): msgstr(m) for m in read_mo(f) if m.id}
    assert compiled == source, "run: pybabel compile -d tracker/translations"
