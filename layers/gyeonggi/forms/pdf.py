"""A form document laid out as an A4 PDF with a Korean font (fpdf2, NanumGothic).

The only module of the layer that imports ``fpdf`` (the rendering function's own requirement,
not the layer's; ``lint-imports`` holds it to that). The font is a TrueType file the caller
names: the rendering function ships NanumGothic (SIL Open Font License 1.1) in its package,
so the PDF is the same in AWS, in the local cloud and here. fpdf2 embeds the subset of glyphs
a document uses (about 10 KB of font per form instead of 4.7 MB) and writes a ToUnicode map,
so ``pdftotext`` and screen readers get the Korean text back.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gyeonggi.common.config import ConfigurationError
from gyeonggi.forms.documents import FormDocument

FONT_FAMILY = "NanumGothic"
_PAGE_WIDTH = 180  # A4 (210 mm) less 15 mm margins
_GREY = (90, 90, 90)
_HEADING_FILL = (232, 238, 247)


class FontUnavailable(ConfigurationError):
    """The TrueType font to render with is missing or unreadable (the package is broken)."""

    code = "font_unavailable"


def _quiet_font_tools() -> None:
    # fontTools' subsetter warns about every table it drops (NanumGothic's TSI* hinting
    # sources): noise in the function's log, not a problem with the document.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    logging.getLogger("fpdf").setLevel(logging.ERROR)


def render_pdf(document: FormDocument, font: Path) -> bytes:
    """The PDF of ``document``, set in the TrueType ``font``.

    Raises
    ------
    FontUnavailable
        ``font`` is not a readable TrueType file.
    """
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    _quiet_font_tools()
    if not font.is_file():
        raise FontUnavailable(f"the font {font} is missing from the function's package")

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font(FONT_FAMILY, size=8)
            self.set_text_color(*_GREY)
            self.cell(
                0,
                5,
                f"디지털 경기 · Digital Gyeonggi   {document.submission_id}   "
                f"{self.page_no()}/{{nb}}",
                align="C",
            )

    pdf = _Pdf(format="A4", unit="mm")
    try:
        pdf.add_font(FONT_FAMILY, fname=str(font))
    except Exception as exc:  # fontTools raises many kinds for a file that is not a font
        raise FontUnavailable(f"the font {font} cannot be read: {type(exc).__name__}") from None
    pdf.set_title(f"{document.title} {document.submission_id}")
    pdf.set_author("경기도 디지털 행정 (Digital Gyeonggi)")
    pdf.set_lang("ko")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()

    _header(pdf, document)
    _fields(pdf, document, FontFace)
    _section(pdf, "수수료 · Fee", [document.fee])
    if document.attachments:
        _section(pdf, "첨부 서류 · Attachments", list(document.attachments))
    if document.in_person:
        _section(pdf, "방문 안내 · In person", list(document.in_person))
    if document.warnings:
        _section(pdf, "확인할 점 · Warnings", list(document.warnings))
    _section(pdf, "본인 확인 · Identity", list(document.identity))
    return bytes(pdf.output())


def _header(pdf: Any, document: FormDocument) -> None:
    pdf.set_font(FONT_FAMILY, size=18)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(_PAGE_WIDTH, 9, document.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(_PAGE_WIDTH, 5, document.title_en, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT_FAMILY, size=10)
    for label, value in (
        ("신청 번호 · Submission", document.submission_id),
        ("신청 일시 · Submitted", document.submitted_at),
        ("처리 기관 · Jurisdiction", document.jurisdiction),
    ):
        pdf.cell(52, 6, label)
        pdf.cell(_PAGE_WIDTH - 52, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=9)
    pdf.set_text_color(150, 30, 30)
    pdf.multi_cell(_PAGE_WIDTH, 5, document.copy_note, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)


def _fields(pdf: Any, document: FormDocument, font_face: Any) -> None:
    pdf.set_font(FONT_FAMILY, size=10)
    with pdf.table(
        col_widths=(64, _PAGE_WIDTH - 64),
        width=_PAGE_WIDTH,
        line_height=5.5,
        text_align="LEFT",
        padding=1.5,
        headings_style=font_face(fill_color=_HEADING_FILL),
    ) as table:
        heading = table.row()
        heading.cell("항목 · Field")
        heading.cell("내용 · Value")
        for row in document.rows:
            cells = table.row()
            cells.cell(f"{row.label}\n{row.label_en}")
            cells.cell(row.value)
    pdf.ln(4)


def _section(pdf: Any, title: str, lines: list[str]) -> None:
    pdf.set_font(FONT_FAMILY, size=11)
    pdf.cell(_PAGE_WIDTH, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=9.5)
    for line in lines:
        pdf.multi_cell(_PAGE_WIDTH, 5, f"· {line}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
