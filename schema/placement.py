"""Placing an order: its inputs and payload."""

import strawberry
from pydantic import ValidationError
from strawberry.utils.str_converters import to_camel_case

from ordergraph.models import AddressFields
from ordergraph.models.enums import PaymentMethodKind
from ordergraph.resolvers import placement
from ordergraph.resolvers.errors import Refusal
from ordergraph.schema.common import UserError
from ordergraph.schema.node import parse_global_id
from ordergraph.schema.order import Order, PaymentMethod
from ordergraph.schema.pickup_point import RecipientInput


@strawberry.input
class AddressInput:
    name: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str = strawberry.field(description='"" where the country has none (AE).')
    country: str
    phone: str | None = None

    def to_domain(self) -> AddressFields:
        try:
            return AddressFields.model_validate(vars(self))
        except ValidationError as invalid:
            error = invalid.errors()[0]
            field = ["shippingAddress", *(to_camel_case(str(part)) for part in error["loc"])]
            raise Refusal("INVALID_ADDRESS", f"Address {'.'.join(field[1:])}: {error['msg']}.", field) from None


@strawberry.input(
    description=(
        "customization: free text for a personalised item; such a line is routed only to locations that customise."
    )
)
class OrderLineInput:
    sku: str
    quantity: int
    customization: str | None = None


@strawberry.input(
    description="customerId: required for agents, refused (FORBIDDEN) for a customer naming anyone but themself.\n"
    "shippingAddress for SHIP methods; pickupLocationId for PICKUP; pickupPointId (and recipient) for a method "
    "with a pickupPointNetwork, which ships to a pickup point or parcel locker of that network.\n"
    "Company orders (#21): companyLocationId (a ship-to location of the buyer's company; then no shippingAddress), "
    "purchaseOrderNumber (unique within the company; PURCHASE_ORDER_REQUIRED where the company says so) and "
    "paymentMethod (CARD, the default, with paymentToken; ON_ACCOUNT within the company's credit limit, "
    "CREDIT_LIMIT_EXCEEDED past it). paymentToken is required for card payments."
)
class PlaceOrderInput:
    customer_id: strawberry.ID | None = None
    lines: list[OrderLineInput]
    delivery_method_code: str
    shipping_address: AddressInput | None = None
    pickup_location_id: strawberry.ID | None = None
    pickup_point_id: strawberry.ID | None = None
    recipient: RecipientInput | None = None
    payment_token: str | None = None
    idempotency_key: str
    company_location_id: strawberry.ID | None = None
    purchase_order_number: str | None = None
    payment_method: PaymentMethod | None = None

    def to_domain(self) -> placement.PlacementRequest:
        return placement.PlacementRequest(
            customer_id=parse_global_id(self.customer_id, "Customer")[1] if self.customer_id else None,
            lines=[placement.LineRequest(line.sku, line.quantity, line.customization) for line in self.lines],
            delivery_method_code=self.delivery_method_code,
            shipping_address=self.shipping_address.to_domain() if self.shipping_address else None,
            pickup_location_id=parse_global_id(self.pickup_location_id, "Location")[1]
            if self.pickup_location_id
            else None,
            payment_token=self.payment_token or "",
            idempotency_key=self.idempotency_key,
            pickup_point_id=parse_global_id(self.pickup_point_id, "PickupPoint")[1] if self.pickup_point_id else None,
            recipient=self.recipient.to_domain() if self.recipient else None,
            company_location_id=parse_global_id(self.company_location_id, "CompanyLocation")[1]
            if self.company_location_id
            else None,
            purchase_order_number=self.purchase_order_number,
            payment_method=PaymentMethodKind(self.payment_method) if self.payment_method else None,
        )


@strawberry.type
class PlaceOrderPayload:
    order: Order | None
    user_errors: list[UserError]
