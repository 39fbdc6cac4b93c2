"""Customer records and address books: agents create and edit customers, customers their own profile (#18); erasure.

The rules are resolvers.customer_changes' and resolvers.erasure's; this maps inputs to domain values and refusals to
userErrors. A customer's mutations act on their own record; an agent's name the customer (`customerId`) or the
address (`addressId`), whose owner they may be acting for.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from ordergraph import models
from ordergraph.resolvers import customer_changes, erasure
from ordergraph.schema.common import Address, UserError
from ordergraph.schema.customer import Customer, CustomerPayload
from ordergraph.schema.info import Info
from ordergraph.schema.node import encode_global_id, parse_global_id
from ordergraph.schema.placement import AddressInput


@strawberry.type(description="An address in a customer's address book, with whether it is a default.")
class CustomerAddress:
    @strawberry.field
    def id(root: models.CustomerAddress) -> strawberry.ID:
        return strawberry.ID(encode_global_id("CustomerAddress", root.id))

    @strawberry.field
    def address(root: models.CustomerAddress) -> Address:
        return root  # type: ignore[return-value]  (strawberry reads the fields off the row)

    default_shipping: bool
    default_billing: bool


@strawberry.type
class AddressBookPayload:
    customer: Customer | None
    address: CustomerAddress | None = strawberry.field(description="Null once removed, or when refused.")
    user_errors: list[UserError]


@strawberry.input(description="Agents: a new customer. The first address is the default shipping and billing one.")
class CreateCustomerInput:
    name: str
    email: str
    phone: str | None = strawberry.field(
        default=None, description="Stored in E.164; without +, read in the first address's country (else the US)."
    )
    addresses: list[AddressInput] | None = None


@strawberry.input(description="Only what is given changes; an empty phone removes it.")
class UpdateCustomerInput:
    customer_id: strawberry.ID
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.input(description="Customers: their own name, email and phone. Only what is given changes.")
class UpdateMyProfileInput:
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.input(description="customerId: agents name the customer; customers leave it out (it is their own).")
class AddMyAddressInput:
    customer_id: strawberry.ID | None = None
    address: AddressInput
    default_shipping: bool = False
    default_billing: bool = False


@strawberry.input(description="The address replaces the saved one; true defaults make it the default too.")
class UpdateMyAddressInput:
    address_id: strawberry.ID
    address: AddressInput
    default_shipping: bool = False
    default_billing: bool = False


@strawberry.input
class RemoveMyAddressInput:
    address_id: strawberry.ID


@strawberry.input(description="Makes the address the default for shipping, billing or both.")
class SetMyDefaultAddressInput:
    address_id: strawberry.ID
    shipping: bool = True
    billing: bool = True


@strawberry.input
class EraseCustomerPersonalDataInput:
    customer_id: strawberry.ID


def _customer_id(global_id: strawberry.ID | None) -> int | None:
    return parse_global_id(global_id, "Customer")[1] if global_id else None


def _address_id(global_id: strawberry.ID) -> int:
    return parse_global_id(global_id, "CustomerAddress")[1]


def _address(value: AddressInput) -> models.AddressFields:
    """The values as sent; resolvers.customer_changes checks them (its refusals name the input field)."""
    return models.AddressFields.model_construct(**vars(value))


def _change(input: AddMyAddressInput | UpdateMyAddressInput) -> customer_changes.AddressChange:
    return customer_changes.AddressChange(_address(input.address), input.default_shipping, input.default_billing)


def _customer_payload(customer: Any, errors: list[UserError]) -> CustomerPayload:
    return CustomerPayload(customer=customer, user_errors=errors)


def _address_payload(result: customer_changes.AddressBookChange | None, errors: list[UserError]) -> AddressBookPayload:
    return AddressBookPayload(
        customer=result.customer if result else None,  # type: ignore[arg-type]
        address=result.address if result else None,  # type: ignore[arg-type]
        user_errors=errors,
    )


async def _answer(payload: Callable[[Any, list[UserError]], Any], action: Callable[[], Awaitable[Any]]) -> Any:
    from ordergraph.schema.mutation import answer  # schema.mutation mixes this module's types in

    return await answer(payload, action)


@strawberry.type
class CustomerQueries:
    """Mixed into the root Query type (schema/query.py). `customers(search:)` and `me { addressBook }` serve #18."""


@strawberry.type
class CustomerMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""

    @strawberry.mutation(description="Agents: a new customer (unique email, validated phone and addresses).")
    async def create_customer(self, info: Info, input: CreateCustomerInput) -> CustomerPayload:
        return await _answer(
            _customer_payload,
            lambda: customer_changes.create_customer(
                info.context,
                name=input.name,
                email=input.email,
                phone=input.phone,
                addresses=[_address(a) for a in input.addresses or []],
            ),
        )

    @strawberry.mutation(description="Agents: a customer's name, email or phone.")
    async def update_customer(self, info: Info, input: UpdateCustomerInput) -> CustomerPayload:
        customer_id = _customer_id(input.customer_id)
        profile = customer_changes.ProfileChange(input.name, input.email, input.phone)
        return await _answer(
            _customer_payload, lambda: customer_changes.update_customer(info.context, customer_id, profile)
        )

    @strawberry.mutation(description="Customers: their own name, email or phone.")
    async def update_my_profile(self, info: Info, input: UpdateMyProfileInput) -> CustomerPayload:
        profile = customer_changes.ProfileChange(input.name, input.email, input.phone)
        return await _answer(_customer_payload, lambda: customer_changes.update_customer(info.context, None, profile))

    @strawberry.mutation(description="An address added to the customer's own address book (agents: `customerId`'s).")
    async def add_my_address(self, info: Info, input: AddMyAddressInput) -> AddressBookPayload:
        customer_id = _customer_id(input.customer_id)
        return await _answer(
            _address_payload, lambda: customer_changes.add_address(info.context, customer_id, _change(input))
        )

    @strawberry.mutation(description="A saved address changed: customers their own, agents any.")
    async def update_my_address(self, info: Info, input: UpdateMyAddressInput) -> AddressBookPayload:
        address_id = _address_id(input.address_id)
        return await _answer(
            _address_payload, lambda: customer_changes.update_address(info.context, address_id, _change(input))
        )

    @strawberry.mutation(description="A saved address removed; a default passes to the first address left.")
    async def remove_my_address(self, info: Info, input: RemoveMyAddressInput) -> AddressBookPayload:
        address_id = _address_id(input.address_id)
        return await _answer(_address_payload, lambda: customer_changes.remove_address(info.context, address_id))

    @strawberry.mutation(description="The default shipping and/or billing address.")
    async def set_my_default_address(self, info: Info, input: SetMyDefaultAddressInput) -> AddressBookPayload:
        address_id = _address_id(input.address_id)
        return await _answer(
            _address_payload,
            lambda: customer_changes.set_default_address(
                info.context, address_id, shipping=input.shipping, billing=input.billing
            ),
        )

    @strawberry.mutation(
        description="Agents and admins: the customer's personal data replaced by tombstones everywhere; orders, "
        "amounts and invoices stay. No message, sign-in or change for them afterwards."
    )
    async def erase_customer_personal_data(self, info: Info, input: EraseCustomerPersonalDataInput) -> CustomerPayload:
        customer_id = parse_global_id(input.customer_id, "Customer")[1]
        return await _answer(_customer_payload, lambda: erasure.erase_customer(info.context, customer_id))
