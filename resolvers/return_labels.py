"""Printable return documents, as one-page PDFs drawn with ReportLab:

- a MAIL return's label once approved: the receiving location's return address, the customer's address,
  and the RMA number as a Code 128 barcode and a QR code, with the items it holds;
- a STORE_DROP_OFF return's pass: the code the store scans (the RMA number as a QR code and a barcode) and
  the store's address.

Served at `label_path` (server/app.py return_label_pdf calls `return_label`): to the return's customer and to
agents, never to analysts (resolvers.access.may_download_documents).
"""

import io
from dataclasses import dataclass

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas
from sqlmodel import col, select

from ordergraph.models import AddressFields, Customer, CustomerAddress, Location, Order, OrderLine, Return, ReturnLine
from ordergraph.models.enums import ReturnMethod, ReturnStatus
from ordergraph.resolvers.access import Viewer, can_see_customer, may_download_documents, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Forbidden
from ordergraph.resolvers.return_requests import receiving_location

LABEL_SIZE = (4 * inch, 6 * inch)  # the common thermal shipping label
ISSUED = frozenset({ReturnStatus.APPROVED, ReturnStatus.RECEIVED, ReturnStatus.REFUNDED})


def label_path(ret: Return, viewer: Viewer | None = None) -> str | None:
    """Where a return's printable label is served (`Return.labelUrl`): MAIL returns once approved, for a viewer
    who may download it (none for analysts: resolvers.access.may_download_documents)."""
    if viewer is not None and not may_download_documents(viewer):
        return None
    if ret.method is ReturnMethod.MAIL and ret.status in ISSUED:
        return f"/returns/{ret.rma_number}/label.pdf"
    return None


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
) -> bytes:
    """One page: for MAIL, from the customer (`ship_from`) to the receiving location (`ship_to`); for a store
    drop-off, the store's address (`ship_to`) and the code to show there. The RMA number is printed, and
    encoded as a Code 128 barcode and a QR code."""
    buffer = io.BytesIO()
    width, height = LABEL_SIZE
    pdf = canvas.Canvas(buffer, pagesize=LABEL_SIZE, invariant=True)  # invariant: the same return, the same bytes
    title = "RETURN LABEL" if method is ReturnMethod.MAIL else "STORE DROP-OFF"
    pdf.setTitle(f"{title} {rma_number}")
    pdf.setAuthor("ordergraph")
    margin, y = 0.2 * inch, height - 0.35 * inch

    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(margin, y, title)
    pdf.setFont("Helvetica", 8)
    pdf.drawRightString(width - margin, y, f"Order {order_number}")
    y -= 0.2 * inch
    pdf.line(margin, y, width - margin, y)

    if method is ReturnMethod.MAIL:
        y = _address_block(pdf, margin, y - 0.2 * inch, "FROM", ship_from, size=8)
        y = _address_block(pdf, margin, y - 0.15 * inch, "RETURN TO", ship_to, size=12)
    else:
        y = _address_block(pdf, margin, y - 0.2 * inch, "BRING THE ITEMS TO", ship_to, size=11)
        pdf.setFont("Helvetica", 8)
        y -= 0.05 * inch
        pdf.drawString(margin, y, "Show this code at the counter; the store scans it.")
        y -= 0.1 * inch

    y -= 0.1 * inch
    pdf.line(margin, y, width - margin, y)
    # The RMA number: barcode, then QR code beside the printed number.
    barcode = code128.Code128(rma_number, barHeight=0.6 * inch, barWidth=1.1, humanReadable=False)
    y -= 0.75 * inch
    barcode.drawOn(pdf, (width - barcode.width) / 2, y)
    qr_size = 1.3 * inch
    y -= qr_size + 0.1 * inch
    _draw_qr(pdf, rma_number, margin, y, qr_size)
    pdf.setFont("Helvetica", 8)
    pdf.drawString(margin + qr_size + 0.15 * inch, y + qr_size - 0.25 * inch, "RMA")
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(margin + qr_size + 0.15 * inch, y + qr_size - 0.5 * inch, rma_number)

    pdf.setFont("Helvetica", 7)
    y -= 0.2 * inch
    for item in items[:8]:  # a label has room for a few lines; the RMA number identifies them all anyway
        pdf.drawString(margin, y, f"{item.quantity} × {item.sku}  {item.name}"[:70])
        y -= 0.14 * inch
    if len(items) > 8:
        pdf.drawString(margin, y, f"… and {len(items) - 8} more line(s)")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _address_block(pdf: canvas.Canvas, x: float, y: float, heading: str, lines: list[str], *, size: int) -> float:
    pdf.setFont("Helvetica-Bold", 7)
    pdf.drawString(x, y, heading)
    y -= size + 3
    pdf.setFont("Helvetica", size)
    for line in lines:
        pdf.drawString(x, y, line[:60])
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
    )
