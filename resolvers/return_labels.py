"""Printable return documents, as one-page PDFs drawn with ReportLab:

- a MAIL return's label once approved: the receiving location's return address, the customer's address,
  and the RMA number as a Code 128 barcode and a QR code, with the items it holds;
- a STORE_DROP_OFF return's pass: the code the store scans (the RMA number as a QR code and a barcode) and
  the store's address.

Served at `label_path` (server/app.py return_label_pdf calls `return_label`): to the return's customer and to
agents, never to analysts (resolvers.access.may_download_documents); and, without a login, through a signed link
from the customer's email (resolvers.signed_documents).

Printed in the customer's language (resolvers.localization) with a TrueType font shipped in the package (DejaVu
Sans: Latin with Czech, and Arabic); Arabic is shaped (arabic-reshaper) and put in visual order (python-bidi)
before it is drawn, since PDF text is drawn glyph by glyph, left to right, and right-to-left lines are right-aligned.
"""

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

import arabic_reshaper
from bidi.algorithm import get_display
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import AddressFields, Customer, CustomerAddress, Location, Order, OrderLine, Return, ReturnLine
from ordergraph.models.enums import ReturnMethod, ReturnStatus
from ordergraph.resolvers import localization as l10n
from ordergraph.resolvers.access import Viewer, can_see_customer, may_download_documents, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Forbidden
from ordergraph.resolvers.return_requests import receiving_location

LABEL_SIZE = (4 * inch, 6 * inch)  # the common thermal shipping label
ISSUED = frozenset({ReturnStatus.APPROVED, ReturnStatus.RECEIVED, ReturnStatus.REFUNDED})


def label_path(ret: Return, viewer: Viewer | None = None) -> str | None:
    """Where a return's printable document is served (`Return.labelUrl`): a MAIL return's label or a drop-off
    return's pass, once approved, for a viewer who may download it (none for analysts:
    resolvers.access.may_download_documents)."""
    if viewer is not None and not may_download_documents(viewer):
        return None
    if ret.status in ISSUED:
        return f"/returns/{ret.rma_number}/label.pdf"
    return None


REGULAR, BOLD = "OrdergraphSans", "OrdergraphSans-Bold"


@cache
def _register_fonts() -> None:
    """DejaVu Sans (Bitstream Vera licence, fonts/LICENSE-DejaVu.txt), from the package: every machine the same."""
    fonts = resources.files("ordergraph.resolvers").joinpath("fonts")
    for name, file in ((REGULAR, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        with resources.as_file(fonts.joinpath(file)) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))


def visual(text: str) -> str:
    """Text as drawn left to right: Arabic letters joined in their contextual forms and runs put in display order
    (digits and Latin inside stay as read). Bidi marks, which a PDF font has no glyph for, are dropped."""
    if not any("\u0590" <= ch <= "\u08ff" for ch in text):
        return text
    shown: str = get_display(arabic_reshaper.reshape(text))
    return shown.replace("\u200f", "").replace("\u200e", "").replace("\u061c", "")


@dataclass(frozen=True, slots=True)
class LabelItem:
    sku: str
    name: str
    quantity: int


def render_return_label(
    *,
    rma_number: str,
    method: ReturnMethod,
    order_number: str,
    ship_from: list[str],
    ship_to: list[str],
    items: list[LabelItem],
    locale: str = "en",
) -> bytes:
    """One page: for MAIL, from the customer (`ship_from`) to the receiving location (`ship_to`); for a store
    drop-off, the store's address (`ship_to`) and the code to show there. The RMA number is printed, and
    encoded as a Code 128 barcode and a QR code. Headings in the customer's `locale`."""
    _register_fonts()

    def t(key: str, **params: object) -> str:
        return l10n.text(locale, key, **params)

    buffer = io.BytesIO()
    width, height = LABEL_SIZE
    pdf = canvas.Canvas(buffer, pagesize=LABEL_SIZE, invariant=True)  # invariant: the same return, the same bytes
    pen = _Pen(pdf, rtl=locale in l10n.RIGHT_TO_LEFT, width=width)
    title = t(f"label.title.{method.value}")
    pdf.setTitle(f"{title} {rma_number}")
    pdf.setAuthor("ordergraph")
    margin, y = 0.2 * inch, height - 0.35 * inch

    order_text = t("label.order", number=order_number)
    room = width - 2 * margin - pdfmetrics.stringWidth(visual(order_text), REGULAR, 8) - 0.15 * inch
    # Longer titles (ŠTÍTEK PRO VRÁCENÍ) are set smaller rather than run into the order number.
    pen.start(BOLD, min(15.0, 15.0 * room / pdfmetrics.stringWidth(visual(title), BOLD, 15)), margin, y, title)
    pen.end(REGULAR, 8, margin, y, order_text)
    y -= 0.2 * inch
    pdf.line(margin, y, width - margin, y)

    if method is ReturnMethod.MAIL:
        y = _address_block(pen, margin, y - 0.2 * inch, t("label.from"), ship_from, size=8)
        y = _address_block(pen, margin, y - 0.15 * inch, t("label.return_to"), ship_to, size=12)
    else:
        y = _address_block(pen, margin, y - 0.2 * inch, t("label.bring_to"), ship_to, size=11)
        y -= 0.05 * inch
        pen.start(REGULAR, 8, margin, y, t("label.show_code"))
        y -= 0.1 * inch

    y -= 0.1 * inch
    pdf.line(margin, y, width - margin, y)
    # The RMA number: barcode, then QR code beside the printed number.
    barcode = code128.Code128(rma_number, barHeight=0.6 * inch, barWidth=1.1, humanReadable=False)
    y -= 0.75 * inch
    barcode.drawOn(pdf, (width - barcode.width) / 2, y)
    qr_size = 1.3 * inch
    y -= qr_size + 0.1 * inch
    qr_x = width - margin - qr_size if pen.rtl else margin
    _draw_qr(pdf, rma_number, qr_x, y, qr_size)
    inset = margin + qr_size + 0.15 * inch
    pen.start(REGULAR, 8, inset, y + qr_size - 0.25 * inch, t("label.rma"))
    pen.start(BOLD, 14, inset, y + qr_size - 0.5 * inch, rma_number)

    y -= 0.2 * inch
    for item in items[:8]:  # a label has room for a few lines; the RMA number identifies them all anyway
        pen.start(REGULAR, 7, margin, y, f"{l10n.number(item.quantity, locale)} × {item.sku}  {item.name}"[:70])
        y -= 0.14 * inch
    if len(items) > 8:
        pen.start(REGULAR, 7, margin, y, t("label.more_lines", count=l10n.number(len(items) - 8, locale)))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class _Pen:
    """Draws a line of text at the reading start (left, or right for a right-to-left language) or end."""

    pdf: canvas.Canvas
    rtl: bool
    width: float

    def start(self, font: str, size: float, inset: float, y: float, text: str) -> None:
        self.pdf.setFont(font, size)
        if self.rtl:
            self.pdf.drawRightString(self.width - inset, y, visual(text))
        else:
            self.pdf.drawString(inset, y, visual(text))

    def end(self, font: str, size: float, inset: float, y: float, text: str) -> None:
        self.pdf.setFont(font, size)
        if self.rtl:
            self.pdf.drawString(inset, y, visual(text))
        else:
            self.pdf.drawRightString(self.width - inset, y, visual(text))


def _address_block(pen: _Pen, x: float, y: float, heading: str, lines: list[str], *, size: int) -> float:
    pen.start(BOLD, 7, x, y, heading)
    y -= size + 3
    for line in lines:
        pen.start(REGULAR, size, x, y, line[:60])
        y -= size + 2
    return y


def _draw_qr(pdf: canvas.Canvas, value: str, x: float, y: float, size: float) -> None:
    widget = qr.QrCodeWidget(value, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, x, y)


def address_lines(name: str | None, address: AddressFields | Location | None) -> list[str]:
    if address is None:
        return [name] if name else []
    region = f"{address.region} " if address.region else ""
    return [
        line
        for line in (
            name,
            address.line1,
            getattr(address, "line2", None),
            f"{address.city}, {region}{address.postal_code}",
            address.country,
        )
        if line
    ]


async def return_label(ctx: RequestContext, rma_number: str) -> bytes | None:
    """The PDF behind `label_path` for whoever may see the return (its customer, or an agent); None for an
    unknown RMA number, another customer's return, or a return with no label (yet). Analysts are refused
    (Forbidden) before anything is looked up: the label prints the customer's name and address."""
    viewer = require_authenticated(ctx.viewer)
    if not may_download_documents(viewer):
        raise Forbidden("Return labels and drop-off passes print personal data: analysts cannot download them.")
    async with ctx.read() as session:
        ret = (await session.exec(select(Return).where(Return.rma_number == rma_number))).first()
        if ret is None:
            return None
        order = await session.get_one(Order, ret.order_id)
        if not can_see_customer(viewer, order.customer_id) or ret.status not in ISSUED:
            return None
        return await render_for(session, ret, order)


async def render_for(session: AsyncSession, ret: Return, order: Order) -> bytes:
    customer = await session.get_one(Customer, order.customer_id)
    to = await receiving_location(session, ret)
    address = (
        order.shipping_address
        or (
            await session.exec(
                select(CustomerAddress)
                .where(CustomerAddress.customer_id == customer.id)
                .order_by(col(CustomerAddress.position))
            )
        ).first()
    )
    rows = (
        await session.exec(
            select(ReturnLine, OrderLine)
            .join(OrderLine, col(OrderLine.id) == col(ReturnLine.order_line_id))
            .where(ReturnLine.return_id == ret.id)
            .order_by(col(ReturnLine.id))
        )
    ).all()
    return render_return_label(
        rma_number=ret.rma_number,
        method=ret.method,
        order_number=order.number,
        ship_from=address_lines(getattr(address, "name", None) or customer.name, address),
        ship_to=address_lines(to.name, to),
        items=[LabelItem(line.sku, line.product_name, rl.quantity) for rl, line in rows],
        locale=l10n.locale_for(customer.locale, order.market_code),
    )
