"""The fonts a PDF is set in: DejaVu, which covers Latin, Cyrillic and Armenian.

xhtml2pdf's built-in fonts are PDF's base 14, which have no Cyrillic. The DejaVu
families come from Debian's ``fonts-dejavu-core`` (the Makefile installs it);
``RECORDBASE_FONT_DIR`` points elsewhere. They are registered with ReportLab
once per worker server, embedded (subset) in every PDF, and every CSS family name
a template is likely to use (sans-serif, serif, Arial, Times …) maps onto them.
"""

from __future__ import annotations

import os
from pathlib import Path

FONT_DIR_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts/dejavu",
)
#: family → (regular, bold, italic, bold italic) file names
FAMILIES = {
    "DejaVuSans": (
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ),
    "DejaVuSansCondensed": (
        "DejaVuSansCondensed.ttf",
        "DejaVuSansCondensed-Bold.ttf",
        "DejaVuSansCondensed-Oblique.ttf",
        "DejaVuSansCondensed-BoldOblique.ttf",
    ),
    "DejaVuSerif": (
        "DejaVuSerif.ttf",
        "DejaVuSerif-Bold.ttf",
        "DejaVuSerif-Italic.ttf",
        "DejaVuSerif-BoldItalic.ttf",
    ),
    "DejaVuSansMono": (
        "DejaVuSansMono.ttf",
        "DejaVuSansMono-Bold.ttf",
        "DejaVuSansMono-Oblique.ttf",
        "DejaVuSansMono-BoldOblique.ttf",
    ),
}
#: CSS family names (lower case) → registered family
CSS_NAMES = {
    "dejavu sans": "DejaVuSans",
    "dejavusans": "DejaVuSans",
    "sans-serif": "DejaVuSans",
    "sans": "DejaVuSans",
    "helvetica": "DejaVuSans",
    "arial": "DejaVuSans",
    "verdana": "DejaVuSans",
    "dejavu sans condensed": "DejaVuSansCondensed",
    "dejavusanscondensed": "DejaVuSansCondensed",
    "arial narrow": "DejaVuSansCondensed",
    "dejavu serif": "DejaVuSerif",
    "dejavuserif": "DejaVuSerif",
    "serif": "DejaVuSerif",
    "times": "DejaVuSerif",
    "times new roman": "DejaVuSerif",
    "times-roman": "DejaVuSerif",
    "georgia": "DejaVuSerif",
    "dejavu sans mono": "DejaVuSansMono",
    "dejavusansmono": "DejaVuSansMono",
    "monospace": "DejaVuSansMono",
    "courier": "DejaVuSansMono",
    "courier new": "DejaVuSansMono",
}
REQUIRED = "DejaVuSans"
_registered: list[str] = []


class FontsMissing(RuntimeError):
    """Raised when the DejaVu fonts cannot be found; says how to install them."""


def font_dir() -> Path:
    """The folder holding the DejaVu TrueType files."""
    env = os.environ.get("RECORDBASE_FONT_DIR")
    candidates = [env] if env else list(FONT_DIR_CANDIDATES)
    for candidate in candidates:
        path = Path(candidate)
        if (path / FAMILIES[REQUIRED][0]).is_file():
            return path.resolve()
    raise FontsMissing(
        "The DejaVu fonts are not installed, so a PDF could not show Cyrillic or Armenian "
        "text: install Debian's fonts-dejavu-core (make test and make run do it as root) or "
        "set RECORDBASE_FONT_DIR to a folder holding DejaVuSans.ttf."
    )


def register_fonts() -> list[str]:
    """Register every DejaVu family found with ReportLab and xhtml2pdf (once per process)."""
    if _registered:
        return list(_registered)
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from xhtml2pdf import default

    folder = font_dir()
    for family, files in FAMILIES.items():
        paths = [folder / name for name in files]
        if not paths[0].is_file():
            continue
        faces = []
        for index, path in enumerate(paths):
            face = family + ("", "-Bold", "-Italic", "-BoldItalic")[index]
            if not path.is_file():
                face = family
            elif face not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(face, str(path)))
            faces.append(face)
        for index, (bold, italic) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
            addMapping(family, bold, italic, faces[index])
        _registered.append(family)
    for css_name, family in CSS_NAMES.items():
        if family in _registered:
            default.DEFAULT_FONT[css_name] = family
    return list(_registered)
