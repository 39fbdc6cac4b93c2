"""Return documents in the customer's language (Arabic shaped and right to left, Czech with its letters), the signed
links that open them, and SMS quiet hours, as pure functions."""

import io
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest

from ordergraph.models.enums import ReturnMethod
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.notifications import after_quiet_hours
from ordergraph.resolvers.return_labels import LabelItem, render_return_label
from ordergraph.resolvers.signed_links import DocumentLink, DocumentPurpose, sign, verify


def label_text(locale: str, method: ReturnMethod = ReturnMethod.MAIL) -> str:
    data = render_return_label(
        rma_number="RMA-0000ABCD",
        method=method,
        order_number="OG-1",
        ship_from=["فاطمة العلي", "Dlouhá 12"],
        ship_to=["Newark Warehouse"],
        items=[LabelItem("SKU-1", "حذاء جري", 1)],
        locale=locale,
    )
    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_an_arabic_label_is_shaped_and_a_czech_one_keeps_its_letters() -> None:
    arabic = label_text("ar")
    # Drawn in contextual forms (Arabic Presentation Forms-B), which read back as the words themselves.
    assert any("\ufe70" <= ch <= "\ufeff" for ch in arabic)
    shown = unicodedata.normalize("NFKC", arabic)
    for words in ("ملصق إرجاع", "الطلب", "إعادة إلى", "فاطمة العلي", "حذاء جري", "RMA-0000ABCD"):
        assert words in shown, words
    assert "تسليم في المتجر" in unicodedata.normalize("NFKC", label_text("ar", ReturnMethod.STORE_DROP_OFF))
    czech = label_text("cs")
    for words in ("ŠTÍTEK PRO VRÁCENÍ", "Objednávka OG-1", "ODESÍLATEL", "Dlouhá 12"):
        assert words in czech, words
    assert "RETURN LABEL" in label_text("en")


def test_a_signed_link_opens_one_document_for_one_purpose_until_it_expires() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    link = DocumentLink(DocumentPurpose.RETURN_LABEL, "RMA-1", now + timedelta(days=30))
    token = sign(link, "secret")
    assert verify(token, "secret", now=now) == link
    signature = token.split(".")[1]
    other = sign(DocumentLink(DocumentPurpose.INVOICE, "RMA-1", link.expires_at), "secret").split(".")[0]
    for bad in (f"{other}.{signature}", token + "x", "x.y", "", token.replace(".", "")):
        with pytest.raises(Refusal) as refused:
            verify(bad, "secret", now=now)
        assert refused.value.code == "INVALID_LINK"
    with pytest.raises(Refusal) as refused:
        verify(token, "another secret", now=now)
    assert refused.value.code == "INVALID_LINK"
    with pytest.raises(Refusal) as refused:
        verify(token, "secret", now=link.expires_at)
    assert refused.value.code == "LINK_EXPIRED"


def test_texts_wait_for_the_end_of_quiet_hours_in_the_customers_time_zone() -> None:
    prague = ZoneInfo("Europe/Prague")
    night = (22 * 60, 7 * 60)  # 22:00 to 07:00, across midnight

    def at(hour: int, minute: int = 0, day: int = 7) -> datetime:
        return datetime(2026, 12, day, hour, minute, tzinfo=prague).astimezone(UTC)

    assert after_quiet_hours(at(21, 59), prague, *night) == at(21, 59)
    assert after_quiet_hours(at(22, 0), prague, *night) == at(7, 0, day=8)
    assert after_quiet_hours(at(3, 30), prague, *night) == at(7, 0)
    assert after_quiet_hours(at(7, 0), prague, *night) == at(7, 0)
    assert after_quiet_hours(at(13, 0), prague, 12 * 60, 14 * 60) == at(14, 0)
    assert after_quiet_hours(at(3, 30), prague, None, None) == at(3, 30)
