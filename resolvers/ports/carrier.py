"""Carriers: tracking numbers and the public tracking page for each. Shipping prices are the delivery
method's (DeliveryMethod.price_minor), not the carrier's."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote


class Carrier(Protocol):
    @property
    def name(self) -> str: ...

    def tracking_url(self, tracking_number: str) -> str: ...

    def new_tracking_number(self) -> str: ...


class Carriers(Protocol):
    def carrier(self, name: str) -> Carrier:
        """The carrier of that name; UnknownCarrier when there is none."""
        ...


class UnknownCarrier(KeyError):
    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


@dataclass(frozen=True)
class TemplateCarrier:
    """A carrier whose tracking page is a URL template with a {number} placeholder."""

    name: str
    url_template: str
    prefix: str  # starts every tracking number this carrier issues

    def tracking_url(self, tracking_number: str) -> str:
        # Quoted: tracking numbers can be typed in by staff and must not rewrite the URL.
        return self.url_template.format(number=quote(tracking_number, safe=""))

    def new_tracking_number(self) -> str:
        return f"{self.prefix}{secrets.token_hex(8).upper()}"


BUILTIN_CARRIERS = (
    TemplateCarrier("UPS", "https://www.ups.com/track?tracknum={number}", "1Z"),
    TemplateCarrier("FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}", "FX"),
    TemplateCarrier("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}", "94"),
    TemplateCarrier("METRO", "https://track.ordergraph.dev/metro/{number}", "MT"),  # our local courier
)


class TemplateCarriers:
    """The carriers by name, whatever its case ("fedex" is FedEx)."""

    def __init__(self, carriers: Iterable[TemplateCarrier] = BUILTIN_CARRIERS) -> None:
        self._by_name = {carrier.name.casefold(): carrier for carrier in carriers}

    def carrier(self, name: str) -> Carrier:
        try:
            return self._by_name[name.casefold()]
        except KeyError:
            known = ", ".join(carrier.name for carrier in self._by_name.values())
            raise UnknownCarrier(f"No carrier named {name!r}; known carriers: {known}.") from None
