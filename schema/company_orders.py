"""Business orders (#21): approvals, purchase orders, payment on account and invoice payments.

Placing a company order is placeOrder with its company inputs (schema/placement.py); the order's company fields
are on Order (schema/order.py), an invoice's due date and payments on Invoice (schema/invoices.py)."""

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import strawberry

from ordergraph.models.money import to_minor
from ordergraph.resolvers import company_orders
from ordergraph.resolvers.errors import Refusal
from ordergraph.schema.common import UserError
from ordergraph.schema.info import Info
from ordergraph.schema.invoices import Invoice
from ordergraph.schema.node import parse_global_id
from ordergraph.schema.order import Order
from ordergraph.schema.order_changes import OrderPayload

P = TypeVar("P")


async def _answer(payload: Callable[[Any, list[UserError]], P], action: Callable[[], Awaitable[Any]]) -> P:
    try:
        return payload(await action(), [])
    except Refusal as refusal:
        return payload(None, [UserError(field=refusal.field, message=refusal.message, code=refusal.code)])


@strawberry.input
class ApproveOrderInput:
    order_id: strawberry.ID


@strawberry.input
class RejectOrderInput:
    order_id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Internal note for agents (free text).")


@strawberry.input(description="amount: in the invoice's currency; at most what it still has due.")
class RecordInvoicePaymentInput:
    invoice_number: str
    amount: Decimal
    reference: str = strawberry.field(description="The bank transfer's or payer's reference (1 to 200 characters).")


@strawberry.type
class InvoicePaymentPayload:
    invoice: Invoice | None
    user_errors: list[UserError]


@strawberry.type
class CompanyOrderQueries:
    """Mixed into the root Query type (schema/query.py)."""

    @strawberry.field(
        description="Orders awaiting approval, oldest first (at most 25): an approver's or company admin's whole "
        "company's, a buyer's own, every company's for agents."
    )
    async def pending_approvals(self, info: Info) -> list[Order]:
        return await company_orders.pending_approvals(info.context)  # type: ignore[return-value]

    @strawberry.field(
        description="A company's invoices, newest first (at most 25): customers their own company's (a buyer those "
        "of their own orders), agents the company named. unpaidOnly: invoices on account not settled yet."
    )
    async def company_invoices(
        self, info: Info, company_id: strawberry.ID | None = None, unpaid_only: bool | None = False
    ) -> list[Invoice]:
        company = parse_global_id(company_id, "Company")[1] if company_id else None
        return await company_orders.company_invoices(info.context, company, unpaid_only=bool(unpaid_only))  # type: ignore[return-value]


@strawberry.type
class CompanyOrderMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""

    @strawberry.mutation(description="An approver of the order's company (not its own buyer), or an agent, approves.")
    async def approve_order(self, info: Info, input: ApproveOrderInput) -> OrderPayload:
        order_id = parse_global_id(input.order_id, "Order")[1]
        return await _answer(
            lambda order, errors: OrderPayload(order=order, user_errors=errors),
            lambda: company_orders.decide_approval(info.context, order_id, approve=True, note=None),
        )

    @strawberry.mutation(description="Rejects an order awaiting approval: every line cancelled, stock and credit back.")
    async def reject_order(self, info: Info, input: RejectOrderInput) -> OrderPayload:
        order_id = parse_global_id(input.order_id, "Order")[1]
        return await _answer(
            lambda order, errors: OrderPayload(order=order, user_errors=errors),
            lambda: company_orders.decide_approval(info.context, order_id, approve=False, note=input.reason),
        )

    @strawberry.mutation(description="Agents and admins record a payment received against an invoice on account.")
    async def record_invoice_payment(self, info: Info, input: RecordInvoicePaymentInput) -> InvoicePaymentPayload:
        async def record() -> Any:
            currency = await _currency_of(info, input.invoice_number)
            try:
                amount = to_minor(input.amount, currency)
            except (ArithmeticError, ValueError):
                raise Refusal(
                    "INVALID_INPUT", f"The amount has more decimal places than {currency} allows.", ["input", "amount"]
                ) from None
            return await company_orders.record_invoice_payment(
                info.context, input.invoice_number, amount, input.reference
            )

        return await _answer(lambda invoice, errors: InvoicePaymentPayload(invoice=invoice, user_errors=errors), record)


async def _currency_of(info: Info, number: str) -> str:
    """The invoice's currency, for reading the amount (an unknown number is refused by the change itself)."""
    return await company_orders.invoice_currency(info.context, number) or "USD"
