"""Keeping the message catalogues in step with the templates and code.

`python -m charter.web.ui.catalogues` extracts every message (`_()`, `ngettext()` in templates; `N_()`, `_()`
in Python under `charter/web/`) and merges it into `locale/{en,zh_CN,zh_TW}/LC_MESSAGES/messages.po`: new
messages arrive untranslated, messages no longer used are dropped. Fill in each new `msgstr`; the test suite
fails while any is empty.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from charter.web.ui.i18n import DOMAIN, LOCALE_DIR, LOCALES

WEB_DIR = Path(__file__).resolve().parents[1]
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extract(root: Path = WEB_DIR) -> Catalog:
    """Every message the pages can show, with where it is used."""
    catalog = Catalog(project="Charter", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), METHODS, OPTIONS, strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str, directory: Path = LOCALE_DIR) -> Path:
    return directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(locale: str, directory: Path = LOCALE_DIR) -> Catalog:
    path = po_path(locale, directory)
    if not path.exists():
        return Catalog(locale=locale, domain=DOMAIN, project="Charter")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=DOMAIN)


def update(directory: Path = LOCALE_DIR) -> dict[str, int]:
    """Merge the extracted messages into each catalogue; returns how many are untranslated in each."""
    template = extract()
    untranslated: dict[str, int] = {}
    for locale in LOCALES.values():
        catalog = read(locale, directory)
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created  # keeps the header still, so a diff shows only message changes
        catalog.obsolete.clear()
        buf = io.BytesIO()
        write_po(buf, catalog, width=120, omit_header=False, sort_output=True, include_previous=False)
        path = po_path(locale, directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())
        untranslated[locale] = sum(1 for m in catalog if m.id and not is_translated(m.string))
    return untranslated


def is_translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    return all(string) if isinstance(string, tuple | list) else bool(string)


if __name__ == "__main__":
    for name, count in update().items():
        print(f"{name}: {count} untranslated")  # noqa: T201 - a maintenance command's report
