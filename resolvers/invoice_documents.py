"""Invoices and credit notes as PDF documents (A4, ReportLab), served at `/invoices/{number}.pdf` and
`/credit-notes/{number}.pdf` (server/app.py) to the document's customer, agents and admins, never to analysts
(resolvers.access.may_download_documents; resolvers.invoices.document_for_download checks it), and through signed
links (resolvers.signed_documents).

`invoice_document` and `credit_note_document` are the only renderers. A document is printed in its buyer's language
(the order's customer's `locale`, else their market's: `buyer_reading`), whoever downloads it: labels from the
locale tables (`invoice.*` keys, resolvers.localization), money, dates, rates and quantities formatted by Babel, with
the TrueType font and the Arabic shaping of the return labels (resolvers.return_labels); a right-to-left document is
laid out mirrored (columns and blocks read from the right). The snapshot's values (names, addresses, descriptions)
are printed as issued; only the shipping line's description, a label of ours, is translated. Rendering is invariant:
the same document in the same language, the same bytes.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Customer
from ordergraph.models.invoice import DocumentKind, Invoice, InvoiceLine
from ordergraph.models.tax import group_by_rate, rate_of_ppm
from ordergraph.resolvers import localization as l10n
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.invoices import document_for_download
from ordergraph.resolvers.return_labels import BOLD, REGULAR, _register_fonts, visual

_LINES_PER_PAGE = 28
_START, _END = "start", "end"
_DEFAULT_ZONE = ZoneInfo(l10n.DEFAULT_TIME_ZONE)
_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f\u061c")  # Babel's marks for Arabic: the font has no glyph


@dataclass(frozen=True, slots=True)
class Reader:
    """Whom a document is printed for: the buyer's language and time zone (its issue date is their day)."""

    locale: str = l10n.DEFAULT_LOCALE
    zone: ZoneInfo = _DEFAULT_ZONE


def invoice_document(invoice: Invoice, lines: Sequence[InvoiceLine], reader: Reader | None = None) -> bytes:
    """The invoice as a PDF, in the reader's language (English when none is given)."""
    return _render(invoice, lines, corrects=None, reader=reader or Reader())


def credit_note_document(
    note: Invoice, lines: Sequence[InvoiceLine], corrects: str | None, reader: Reader | None = None
) -> bytes:
    """The credit note as a PDF, naming the invoice it corrects, in the reader's language."""
    return _render(note, lines, corrects=corrects, reader=reader or Reader())


async def buyer_reading(session: AsyncSession, document: Invoice) -> Reader:
    """The language and time zone of the document's customer (their choice, else their market's)."""
    customer = await session.get(Customer, document.customer_id)
    chosen_locale, chosen_zone = (customer.locale, customer.time_zone) if customer is not None else (None, None)
    return Reader(
        l10n.locale_for(chosen_locale, document.market_code), l10n.time_zone_for(chosen_zone, document.market_code)
    )


async def rendered(session: AsyncSession, document: Invoice) -> bytes:
    """An invoice or credit note as its buyer reads it, loaded in `session` (the signed links' path)."""
    lines = (
        await session.exec(
            select(InvoiceLine).where(InvoiceLine.invoice_id == document.id).order_by(col(InvoiceLine.position))
        )
    ).all()
    reader = await buyer_reading(session, document)
    if document.kind is DocumentKind.INVOICE:
        return invoice_document(document, lines, reader)
    corrected = await session.get(Invoice, document.corrects_invoice_id) if document.corrects_invoice_id else None
    return credit_note_document(document, lines, corrected.number if corrected else None, reader)


async def document_pdf(ctx: RequestContext, kind: DocumentKind, number: str) -> bytes | None:
    """The PDF for the route, in the buyer's language whoever asks; None when the viewer may not have it or it does
    not exist (alike). Analysts are refused with Forbidden."""
    found = await document_for_download(ctx, kind, number)
    if found is None:
        return None
    document, lines, corrects = found
    async with ctx.read() as session:
        reader = await buyer_reading(session, document)
    if kind is DocumentKind.INVOICE:
        return invoice_document(document, lines, reader)
    return credit_note_document(document, lines, corrects, reader)


@dataclass(slots=True)
class _Page:
    """Draws at a distance from the reading start (left, or right for a right-to-left language): `start` aligns a
    text's beginning there, `end` its end, so a right-to-left document is the left-to-right layout mirrored."""

    pdf: canvas.Canvas
    rtl: bool
    width: float

    def start(self, x: float, y: float, text: str) -> None:
        if self.rtl:
            self.pdf.drawRightString(self.width - x, y, _shown(text))
        else:
            self.pdf.drawString(x, y, _shown(text))

    def end(self, x: float, y: float, text: str) -> None:
        if self.rtl:
            self.pdf.drawString(self.width - x, y, _shown(text))
        else:
            self.pdf.drawRightString(x, y, _shown(text))

    def rule(self, y: float, margin: float) -> None:
        self.pdf.line(margin, y, self.width - margin, y)


def _shown(text: str) -> str:
    return visual(text).translate(_BIDI_MARKS)


def _render(doc: Invoice, lines: Sequence[InvoiceLine], *, corrects: str | None, reader: Reader) -> bytes:
    _register_fonts()
    locale = reader.locale

    def t(key: str, **params: object) -> str:
        return l10n.text(locale, key, **params)

    def money(minor: int) -> str:
        return l10n.money(minor, doc.currency, locale)

    def percent(ppm: int) -> str:
        return format_percent(rate_of_ppm(ppm), locale=locale, decimal_quantization=False)

    buffer = io.BytesIO()
    width, height = A4
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page = _Page(pdf, rtl=locale in l10n.RIGHT_TO_LEFT, width=width)
    title = t(f"invoice.title.{doc.kind.value}")
    pdf.setTitle(f"{title} {doc.number}")
    pdf.setAuthor(doc.seller_name)
    margin = 18 * mm
    y = height - 22 * mm
    pdf.setFont(BOLD, 18)
    page.start(margin, y, title)
    pdf.setFont(BOLD, 12)
    page.end(width - margin, y, doc.number)
    y -= 7 * mm
    pdf.setFont(REGULAR, 9)
    page.end(width - margin, y, t("invoice.issued", date=l10n.day(doc.issued_at, locale, reader.zone)))
    if corrects:
        y -= 5 * mm
        page.end(width - margin, y, t("invoice.corrects", number=corrects))

    y -= 10 * mm
    seller = [
        doc.seller_name,
        doc.seller_line1,
        f"{doc.seller_postal_code} {doc.seller_city}",
        doc.seller_country,
        t("invoice.tax_id", id=doc.seller_tax_id),
    ]
    buyer = [
        line
        for line in (
            doc.buyer_name,
            doc.buyer_line1,
            doc.buyer_line2,
            " ".join(p for p in (doc.buyer_postal_code, doc.buyer_city, doc.buyer_region) if p) or None,
            doc.buyer_country,
            doc.buyer_email,
            t("invoice.tax_id", id=doc.buyer_tax_id) if doc.buyer_tax_id else None,
        )
        if line
    ]
    _block(page, margin, y, t("invoice.seller"), seller)
    _block(page, width / 2, y, t("invoice.buyer"), buyer)
    y -= 40 * mm

    # (label, aligned at its start or its end, at mm from the margin): money columns are wide enough for
    # "10 000 000,00 Kč" at 7.5 pt in DejaVu Sans.
    table = (
        ("sku", _START, 0),
        ("description", _START, 22),
        ("quantity", _END, 72),
        ("unit_price", _END, 96),
        ("net", _END, 120),
        ("rate", _END, 133),
        ("tax", _END, 153),
        ("total", _END, 174),
    )

    def row(y: float, cells: Sequence[str]) -> None:
        for (_, align, at), cell in zip(table, cells, strict=True):
            (page.start if align is _START else page.end)(margin + at * mm, y, cell)

    def header(y: float) -> float:
        pdf.setFont(BOLD, 7.5)
        row(y, [t(f"invoice.column.{name}") for name, _, _ in table])
        page.rule(y - 2 * mm, margin)
        pdf.setFont(REGULAR, 7.5)
        return y - 6 * mm

    y = header(y)
    for index, line in enumerate(lines):
        if index and index % _LINES_PER_PAGE == 0:
            pdf.showPage()
            y = header(height - 22 * mm)
        description = t("shipping") if line.is_shipping else line.description
        rate = "" if line.tax_rate_ppm is None else percent(line.tax_rate_ppm)
        amounts = (line.unit_price_minor, line.net_minor)
        cells = [(line.sku or "")[:14], description[:30], l10n.number(line.quantity, locale), *map(money, amounts)]
        row(y, [*cells, rate, money(line.tax_minor), money(line.gross_minor)])
        y -= 5 * mm

    page.rule(y + 2 * mm, margin)
    y -= 6 * mm
    if y < 60 * mm:
        pdf.showPage()
        y = height - 22 * mm
    pdf.setFont(BOLD, 9)
    page.start(margin, y, t("invoice.taxes"))
    pdf.setFont(BOLD, 7.5)
    y -= 5 * mm
    summary = ((_START, 0), (_END, 50), (_END, 80))
    for (align, at), key in zip(summary, ("rate", "net", "tax"), strict=True):
        (page.start if align is _START else page.end)(margin + at * mm, y, t(f"invoice.column.{key}"))
    pdf.setFont(REGULAR, 8)
    for tax in group_by_rate([(li.tax_rate_ppm, li.gross_minor, li.tax_minor) for li in lines]):
        y -= 5 * mm
        page.start(margin, y, "-" if tax.rate_ppm is None else percent(tax.rate_ppm))
        page.end(margin + 50 * mm, y, money(tax.net_minor))
        page.end(margin + 80 * mm, y, money(tax.tax_minor))
    y -= 10 * mm
    last = "invoice.total" if doc.kind is DocumentKind.INVOICE else "invoice.refunded"
    for key, amount in (("invoice.net", doc.net_minor), ("invoice.tax", doc.tax_minor), (last, doc.total_minor)):
        pdf.setFont(BOLD if key == last else REGULAR, 10)
        page.start(width - margin - 80 * mm, y, t(key))
        page.end(width - margin, y, money(amount))
        y -= 6 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _block(page: _Page, x: float, y: float, heading: str, lines: list[str]) -> None:
    page.pdf.setFont(BOLD, 8)
    page.start(x, y, heading)
    page.pdf.setFont(REGULAR, 9)
    for line in lines:
        y -= 4.5 * mm
        page.start(x, y, line[:48])
