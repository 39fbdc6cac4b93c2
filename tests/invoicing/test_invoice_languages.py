"""Invoices and credit notes are printed in the buyer's language (#19): Czech with its letters, Arabic shaped, the
same document whether downloaded signed in (by the customer or an agent) or opened from a signed link."""

import unicodedata
from datetime import UTC, datetime, timedelta

from conftest import TEST_SECRET, Api
from factories import NOW
from invoicing_helpers import credit_notes
from test_placement import NY_ADDRESS, place
from test_returns import deliver, pdf_text, request

from ordergraph.resolvers.signed_links import DocumentLink, DocumentPurpose, sign

LANGUAGE = """mutation($input: UpdateMyLanguageInput!) {
  updateMyLanguage(input: $input) { userErrors { code } }
}"""
CZECH_NAME = "Bořivoj Čížek"
MY_DOCUMENTS = """query($id: ID!) { node(id: $id) { ... on Order { invoices {
  number pdfUrl total { amount } creditNotes { number pdfUrl }
} } } }"""


async def order_documents(shop: Api, order_id: str, customer: str) -> dict:
    body = (await shop.post(MY_DOCUMENTS, {"id": order_id}, token=shop.token("customer", customer))).json()
    assert "errors" not in body, body
    return body["data"]["node"]


async def downloads(shop: Api, url: str, number: str, customer: str) -> list[bytes]:
    """The document as its customer and an agent download it, and as its signed link opens it."""
    found = []
    for token in (shop.token("customer", customer), shop.token("agent")):
        response = await shop.client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        found.append(response.content)
    link = sign(DocumentLink(DocumentPurpose.INVOICE, number, datetime.now(UTC) + timedelta(days=1)), TEST_SECRET)
    response = await shop.client.get(f"/d/{link}")
    assert response.status_code == 200, response.text
    found.append(response.content)
    return found


async def invoiced_order(shop: Api, customer: str, locale: str, key: str, name: str | None = None) -> str:
    """A delivered order of the customer, who reads `locale`, shipped to `name` (theirs if none): one invoice."""
    body = (await shop.post(LANGUAGE, {"input": {"locale": locale}}, token=shop.token("customer", customer))).json()
    assert body["data"]["updateMyLanguage"]["userErrors"] == []
    address = {**NY_ADDRESS, "name": name} if name else NY_ADDRESS
    order_id = (await place(shop, customer, key=key, lines=(("SKU-2", 2),), address=address))["order"]["id"]
    await deliver(shop, order_id, event_id=key)
    return order_id


async def test_a_czech_buyer_reads_invoice_and_credit_note_in_czech(shop: Api) -> None:
    order_id = await invoiced_order(shop, "bob", "cs", "cs-invoice", name=CZECH_NAME)
    shop.set_clock(NOW + timedelta(days=2))
    returned = (await request(shop, order_id, [("SKU-2", 1)], token=shop.token("customer", "bob")))["return"]
    await shop.run("ReceiveReturn", {"input": {"returnId": returned["id"]}}, token=shop.token("agent"))
    order = await order_documents(shop, order_id, "bob")
    (invoice,) = order["invoices"]
    (note,) = credit_notes(order).values()

    copies = await downloads(shop, invoice["pdfUrl"], invoice["number"], "bob")
    assert len(set(copies)) == 1  # the buyer's language, whoever downloads it and however
    pages, text = pdf_text(copies[0])
    assert pages == 1
    total = invoice["total"]["amount"].replace(".", ",")
    for words in ("FAKTURA", "Datum vystavení", "ODBĚRATEL", "DODAVATEL", CZECH_NAME, "Celkem k úhradě", "Doprava"):
        assert words in text, words
    assert f"{total}\xa0US$" in text or f"{total} US$" in text  # Babel: decimal comma, currency after
    assert "INVOICE" not in text
    assert "Total" not in text

    (note_copy, *_) = await downloads(shop, note["pdfUrl"], note["number"], "bob")
    text = pdf_text(note_copy)[1]
    for words in ("OPRAVNÝ DAŇOVÝ DOKLAD", f"Opravuje fakturu {invoice['number']}", "Celkem vráceno", CZECH_NAME):
        assert words in text, words


async def test_an_arabic_buyer_reads_a_shaped_right_to_left_invoice_and_english_stays_english(shop: Api) -> None:
    order_id = await invoiced_order(shop, "newbie", "ar", "ar-invoice")
    (invoice,) = (await order_documents(shop, order_id, "newbie"))["invoices"]
    copies = await downloads(shop, invoice["pdfUrl"], invoice["number"], "newbie")
    assert len(set(copies)) == 1
    text = pdf_text(copies[0])[1]
    assert any("\ufe70" <= ch <= "\ufeff" for ch in text)  # drawn in contextual forms
    assert "\u200f" not in text  # Babel's bidi marks are not drawn (the font has no glyph for them)
    shown = unicodedata.normalize("NFKC", text)
    for words in ("فاتورة", "المشتري", "البائع", "الإجمالي", "ملخص الضريبة", "الشحن", invoice["number"]):
        assert words in shown, words

    english = await invoiced_order(shop, "alice", "en", "en-invoice")
    (invoice,) = (await order_documents(shop, english, "alice"))["invoices"]
    text = pdf_text((await downloads(shop, invoice["pdfUrl"], invoice["number"], "alice"))[0])[1]
    for words in ("INVOICE", "BUYER", "Alice Shopper", "Issue date", "Total", "Shipping"):
        assert words in text, words
