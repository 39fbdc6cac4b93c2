"""Sample messages of every moment in every locale (`ordergraph preview-notifications`), for an operator to read
before going live: made from made-up letters, through the same templates and texts as real ones."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ordergraph.models.enums import NotificationMoment, ReturnMethod
from ordergraph.resolvers import localization as l10n
from ordergraph.resolvers.notifications import (
    Document,
    Item,
    Letter,
    LetterSettings,
    Parcel,
    Totals,
    message_templates,
    render,
)
from ordergraph.resolvers.return_labels import LabelItem, render_return_label
from ordergraph.resolvers.signed_links import DocumentLink, DocumentPurpose, link_url

M = NotificationMoment
SAMPLE_TIME = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
# Per locale: the customer, the market's currency and time zone, the items (as the catalogue names them there).
_PEOPLE = {
    "en": ("Alice Shopper", "USD", "America/New_York", ("Trail Runner", "Wool Socks"), ("10 Main St", "New York")),
    "cs": ("Jana Nováková", "CZK", "Europe/Prague", ("Běžecké boty", "Vlněné ponožky"), ("Dlouhá 12", "Praha")),
    "ar": ("فاطمة العلي", "SAR", "Asia/Riyadh", ("حذاء جري", "جوارب صوف"), ("شارع الملك فهد 12", "الرياض")),
}


def sample_letters(locale: str, settings: LetterSettings) -> list[tuple[str, Letter]]:
    """(file name, letter) for every moment and variant."""
    name, currency, zone_name, (runner, socks), (street, city) = _PEOPLE.get(locale, _PEOPLE["en"])
    zone = l10n.time_zone_for(zone_name, None)
    parcels = (
        Parcel(1, "UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784",
               "IN_TRANSIT", SAMPLE_TIME + timedelta(days=3), (Item(runner, 2),)),
        Parcel(2, "UPS", "1Z999AA10123456785", "https://www.ups.com/track?tracknum=1Z999AA10123456785",
               "DELIVERED", SAMPLE_TIME + timedelta(days=2), (Item(socks, 3),)),
    )  # fmt: skip
    base = Letter(
        moment=M.ORDER_CONFIRMED,
        variant=M.ORDER_CONFIRMED.value,
        locale=locale,
        zone=zone,
        shop=settings.shop_name,
        customer_name=name,
        order_number="OG-4F2A9C1B7E",
        currency=currency,
        items=(Item(runner, 2, 24_000), Item(socks, 3, 3_750)),
        totals=Totals(27_750, 599, 2_406, 30_755 if locale == "en" else 28_349, locale != "en"),
        promise=SAMPLE_TIME + timedelta(days=4),
        parcels=parcels,
        delivery_method="Standard",
        address=(name, street, city),
    )
    expires = SAMPLE_TIME + settings.link_ttl

    def link(purpose: DocumentPurpose) -> str:
        return link_url(settings.public_url, DocumentLink(purpose, "RMA-7C21D0AF", expires), settings.link_secret)

    store = ("Brooklyn Store", ("5 Court St", "11201 Brooklyn", "US"))
    returned = (Item(runner, 1, 12_480),)
    letters = [
        ("order-received", replace(base, moment=M.ORDER_RECEIVED, variant="ORDER_RECEIVED")),
        ("order-confirmed", base),
        ("shipping-changed", replace(base, moment=M.SHIPPING_CHANGED, variant="SHIPPING_CHANGED")),
        ("order-cancelled", replace(base, moment=M.ORDER_CANCELLED, variant="ORDER_CANCELLED",
                                    items=(Item(runner, 2), Item(socks, 3)), totals=None,
                                    reason_code="CUSTOMER_REQUEST",
                                    amount_minor=0)),
        ("lines-cancelled", replace(base, moment=M.ORDER_CANCELLED, variant="LINES_CANCELLED", items=(Item(socks, 1),),
                                    totals=None, reason_code="OUT_OF_STOCK", amount_minor=29_456)),
        ("parcel-shipped", replace(base, moment=M.PARCEL_SHIPPED, variant="PARCEL_SHIPPED", parcel=parcels[0],
                                   items=parcels[0].items, totals=None)),
        ("parcel-delayed", replace(base, moment=M.PARCEL_DELAYED, variant="PARCEL_DELAYED",
                                   parcel=replace(parcels[0], status="EXCEPTION"), items=(), totals=None)),
        ("out-for-delivery", replace(base, moment=M.OUT_FOR_DELIVERY, variant="OUT_FOR_DELIVERY",
                                     parcel=replace(parcels[0], status="OUT_FOR_DELIVERY"), items=(), totals=None)),
        ("parcel-delivered", replace(base, moment=M.PARCEL_DELIVERED, variant="PARCEL_DELIVERED", parcel=parcels[1],
                                     items=(), totals=None)),
        ("order-delivered", replace(base, moment=M.ORDER_DELIVERED, variant="ORDER_DELIVERED",
                                    items=(Item(runner, 2), Item(socks, 3)), totals=None,
                                    parcels=tuple(replace(p, status="DELIVERED") for p in parcels))),
        ("ready-for-pickup", replace(base, moment=M.READY_FOR_PICKUP, variant="READY_FOR_PICKUP",
                                     items=(Item(runner, 1),),
                                     totals=None, place=store[0], place_address=store[1],
                                     until=SAMPLE_TIME + settings.pickup_window)),
        ("pickup-reminder", replace(base, moment=M.PICKUP_REMINDER, variant="PICKUP_REMINDER", items=(Item(runner, 1),),
                                    totals=None, place=store[0], place_address=store[1],
                                    until=SAMPLE_TIME + settings.pickup_window)),
        ("return-requested", replace(base, moment=M.RETURN_UPDATE, variant="RETURN_REQUESTED", rma="RMA-7C21D0AF",
                                     items=(Item(runner, 1),), totals=None)),
        ("return-rejected", replace(base, moment=M.RETURN_UPDATE, variant="RETURN_REJECTED", rma="RMA-7C21D0AF",
                                    items=(Item(runner, 1),), totals=None,
                                    detail="The return window closed on November 30.")),
        ("return-approved-mail", replace(base, moment=M.RETURN_APPROVED, variant="RETURN_APPROVED", rma="RMA-7C21D0AF",
                                         return_method=ReturnMethod.MAIL, items=(Item(runner, 1),), totals=None,
                                         documents=(Document("download_label", link(DocumentPurpose.RETURN_LABEL)),),
                                         links_until=expires)),
        ("return-approved-drop-off", replace(base, moment=M.RETURN_APPROVED, variant="RETURN_APPROVED",
                                             rma="RMA-7C21D0AF", return_method=ReturnMethod.STORE_DROP_OFF,
                                             items=(Item(runner, 1),), totals=None, place=store[0],
                                             place_address=store[1],
                                             documents=(Document("download_pass",
                                                                 link(DocumentPurpose.DROP_OFF_PASS)),),
                                             links_until=expires)),
        ("return-received", replace(base, moment=M.RETURN_RECEIVED, variant="RETURN_RECEIVED", rma="RMA-7C21D0AF",
                                    items=returned, totals=None, units=1, expected=1)),
        ("refund-issued", replace(base, moment=M.REFUND_ISSUED, variant="REFUND_ISSUED", rma="RMA-7C21D0AF",
                                  items=returned, totals=None, amount_minor=12_480)),
        ("customer-note", replace(base, moment=M.CUSTOMER_NOTE, variant="CUSTOMER_NOTE", items=(), totals=None,
                                  detail="Your socks come in a gift box, as you asked.")),
    ]  # fmt: skip
    return letters


def write_previews(folder: Path, settings: LetterSettings) -> list[Path]:
    """Every message (HTML, text with its subject, SMS) of every moment in every locale, and the return label and
    drop-off pass, under folder/{locale}/; the paths written."""
    templates = message_templates(settings.templates_dir)
    written = []
    for locale in l10n.LOCALES:
        target = folder / locale
        target.mkdir(parents=True, exist_ok=True)
        for number, (name, letter) in enumerate(sample_letters(locale, settings), start=1):
            rendered = render(letter, templates)
            stem = target / f"{number:02d}-{name}"
            for path, content in (
                (stem.with_suffix(".html"), rendered.html),
                (stem.with_suffix(".txt"), f"Subject: {rendered.subject}\n\n{rendered.text}"),
                (stem.with_suffix(".sms.txt"), rendered.sms + "\n"),
            ):
                path.write_text(content, encoding="utf-8")
                written.append(path)
        person, _, _, (runner, socks), (street, city) = _PEOPLE[locale]
        for method, file in (
            (ReturnMethod.MAIL, "return-label.pdf"),
            (ReturnMethod.STORE_DROP_OFF, "drop-off-pass.pdf"),
        ):
            path = target / file
            path.write_bytes(
                render_return_label(
                    rma_number="RMA-7C21D0AF",
                    method=method,
                    order_number="OG-4F2A9C1B7E",
                    ship_from=[person, street, city],
                    ship_to=["Newark Warehouse", "1 Port St", "Newark, NJ 07114", "US"]
                    if method is ReturnMethod.MAIL
                    else ["Brooklyn Store", "5 Court St", "Brooklyn, NY 11201", "US"],
                    items=[LabelItem("SKU-1", runner, 1), LabelItem("SKU-2", socks, 2)],
                    locale=locale,
                )
            )
            written.append(path)
    return written
