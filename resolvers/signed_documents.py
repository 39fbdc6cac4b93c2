"""The documents signed links open (resolvers.signed_links), served at /d/{token} without a login: a MAIL return's
label, a drop-off return's pass, an invoice or a credit note. The link names the document as the customer knows it
(an RMA number, an invoice number) and what it is for; a link for one kind never opens another."""

from datetime import datetime

from sqlmodel import select

from ordergraph.loaders.base import ReadSession
from ordergraph.models import Order, Return
from ordergraph.models.enums import ReturnMethod
from ordergraph.models.invoice import Invoice
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.invoice_documents import rendered
from ordergraph.resolvers.return_labels import ISSUED, render_for
from ordergraph.resolvers.signed_links import DocumentPurpose, verify

_RETURN_DOCUMENTS = {
    DocumentPurpose.RETURN_LABEL: ReturnMethod.MAIL,
    DocumentPurpose.DROP_OFF_PASS: ReturnMethod.STORE_DROP_OFF,
}


async def signed_document(read: ReadSession, token: str, secret: str, *, now: datetime) -> tuple[str, bytes]:
    """The document a signed link opens, with its file name, for whoever holds the link: Refusal INVALID_LINK or
    LINK_EXPIRED (resolvers.signed_links.verify), NOT_FOUND when there is no such document (any more)."""
    link = verify(token, secret, now=now)
    missing = Refusal("NOT_FOUND", "This document is not available.", ["token"])
    async with read() as session:
        if link.purpose is DocumentPurpose.INVOICE:
            invoice = (await session.exec(select(Invoice).where(Invoice.number == link.document))).first()
            if invoice is None:
                raise missing
            return f"{invoice.number}.pdf", await rendered(session, invoice)  # in the buyer's language
        wanted = _RETURN_DOCUMENTS.get(link.purpose)
        if wanted is None:  # a link for something else (a bulk export's file) never opens a document here
            raise Refusal("INVALID_LINK", "This link is not valid.", ["token"])
        ret = (await session.exec(select(Return).where(Return.rma_number == link.document))).first()
        if ret is None or ret.method is not wanted or ret.status not in ISSUED:
            raise missing
        order = await session.get_one(Order, ret.order_id)
        return f"{ret.rma_number}.pdf", await render_for(session, ret, order)
