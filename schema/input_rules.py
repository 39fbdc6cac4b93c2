"""The rules every input a client sends must keep, written once and applied to every String, ID and DateTime value
of the operation that runs (arguments and input-object fields, literals and variables alike), before it executes:

- characters: no C0 control character (U+0000 to U+001F), no DEL (U+007F), no C1 control character (U+0080 to
  U+009F) and no unpaired surrogate (U+D800 to U+DFFF); free text that may span lines (notes, reasons,
  customisations, descriptions) may hold tab, line feed and carriage return;
- length: at most `TEXT_RULES[coordinate]` characters for the input coordinates listed there, and otherwise
  `DEFAULT_TEXT` for a String and `ID_RULE` for an ID;
- times: a DateTime carries its offset from UTC and is a time UTC can hold (a naive time, a date alone, or
  9999-12-31T23:00:00-05:00 would otherwise fail in the database as an internal error).

A String or DateTime that breaks its rule is refused with BAD_USER_INPUT; an ID with INVALID_ID (no ID this graph
issued holds such characters or is that long). The error names the argument and the path inside it
(`extensions.field`), and nothing runs: no resolver, no SQL. `describe_input_rules` writes each String's limit into
the schema's descriptions, so the schema documents what this module enforces. The carrier webhook
(server/carrier_webhooks.py) holds its fields to the same rules through `text_problem`.
"""

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_operation_ast,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension

from ordergraph.resolvers.bulk_exports import MAX_SELECTION_LENGTH as MAX_EXPORT_SELECTION
from ordergraph.resolvers.companies import MAX_TAX_ID
from ordergraph.resolvers.company_orders import MAX_PAYMENT_REFERENCE, MAX_PURCHASE_ORDER_NUMBER
from ordergraph.resolvers.fulfillment_steps import MAX_TRACKING_NUMBER
from ordergraph.resolvers.inbound import MAX_REFERENCE
from ordergraph.resolvers.opening_hours import MAX_CLOSURE_REASON
from ordergraph.resolvers.order_changes import MAX_NOTE_LENGTH
from ordergraph.resolvers.placement import MAX_IDEMPOTENCY_KEY
from ordergraph.resolvers.return_requests import MAX_REASON
from ordergraph.resolvers.tracking import MAX_EVENT_ID, MAX_TEXT
from ordergraph.resolvers.webhooks import MAX_DOCUMENT_LENGTH as MAX_WEBHOOK_DOCUMENT
from ordergraph.resolvers.webhooks import MAX_URL_LENGTH as MAX_WEBHOOK_URL
from ordergraph.schema.node import MAX_GLOBAL_ID_LENGTH
from ordergraph.schema.per_document import PerDocument


@dataclass(frozen=True, slots=True)
class TextRule:
    max_length: int
    multiline: bool = False  # free text: tab, line feed and carriage return allowed


DEFAULT_TEXT = TextRule(200)  # names, address lines, cities, search terms, cursors, tokens, keys…
ID_RULE = TextRule(MAX_GLOBAL_ID_LENGTH)
CODE = TextRule(64)  # SKUs, codes, carrier names, event types
NOTE = TextRule(MAX_NOTE_LENGTH, multiline=True)
REASON = TextRule(500, multiline=True)

# The limit of each input coordinate that is not the default: "InputType.field" for an input object's field,
# "Type.field(argument)" for an argument.
TEXT_RULES: Mapping[str, TextRule] = {
    # Free text over several lines.
    "AddOrderNoteInput.message": NOTE,
    "CancelOrderInput.reason": NOTE,
    "HoldOrderInput.reason": NOTE,
    "AdjustInventoryInput.reason": REASON,
    "RejectReturnInput.reason": TextRule(MAX_REASON, multiline=True),
    "OrderLineInput.customization": REASON,
    "RecordShipmentEventInput.description": TextRule(MAX_TEXT, multiline=True),
    # One line.
    "RecordShipmentEventInput.location": TextRule(MAX_TEXT),
    "RecordShipmentEventInput.carrierEventId": TextRule(MAX_EVENT_ID),
    "ShipFulfillmentOrderInput.trackingNumber": TextRule(MAX_TRACKING_NUMBER),
    "ShipFulfillmentOrderInput.carrier": CODE,
    "PlaceOrderInput.idempotencyKey": TextRule(MAX_IDEMPOTENCY_KEY),
    "PlaceOrderInput.deliveryMethodCode": CODE,
    "UpdateOrderShippingInput.deliveryMethodCode": CODE,
    "OrderLineInput.sku": CODE,
    "AdjustInventoryInput.sku": CODE,
    "Query.products(skus)": CODE,
    "OrderEventFilter.types": CODE,
    "AddressInput.country": CODE,
    "AddressInput.postalCode": TextRule(20),
    "Product.availability(postalCode)": TextRule(20),
    "AddressInput.phone": TextRule(32),
    "NotificationPreferencesInput.phone": TextRule(32),
    # Customer records (#18): emails up to the SMTP limit, phones as any other.
    "CreateCustomerInput.email": TextRule(254),
    "UpdateCustomerInput.email": TextRule(254),
    "UpdateMyProfileInput.email": TextRule(254),
    "CreateCustomerInput.phone": TextRule(32),
    "UpdateCustomerInput.phone": TextRule(32),
    "UpdateMyProfileInput.phone": TextRule(32),
    # Markets, pickup points and the store finder.
    "Query.pickupPoints(country)": CODE,
    "Query.pickupPoints(network)": CODE,
    "Query.pickupPoints(postalCode)": TextRule(20),
    "Query.stores(country)": CODE,
    "Query.stores(postalCode)": TextRule(20),
    "RecipientInput.phone": TextRule(32),
    "Product.availability(country)": CODE,
    "Product.priceIn(market)": CODE,
    "OrderFilter.currency": CODE,
    "OrderFilter.market": CODE,
    "OrderStatsFilter.currency": CODE,
    "OrderStatsFilter.market": CODE,
    # Stores and stock coming in (#18): schema/store_finder.py, schema/stock_in.py.
    "PlaceInput.country": CODE,
    "PlaceInput.postalCode": TextRule(20),
    "OpeningIntervalInput.opens": TextRule(5),
    "OpeningIntervalInput.closes": TextRule(5),
    "SetLocationOpeningHoursInput.timezone": CODE,
    "LocationClosureInput.reason": TextRule(MAX_CLOSURE_REASON),
    "CreateInboundShipmentInput.reference": TextRule(MAX_REFERENCE),
    "InboundLineInput.sku": CODE,
    "ReceiptLineInput.sku": CODE,
    "SetInventoryThresholdsInput.sku": CODE,
    "InventoryLevelFilter.sku": CODE,
    "InboundShipmentFilter.sku": CODE,
    # Webhook subscriptions (schema/webhooks.py).
    "CreateWebhookSubscriptionInput.url": TextRule(MAX_WEBHOOK_URL),
    "CreateWebhookSubscriptionInput.eventTypes": CODE,
    "CreateWebhookSubscriptionInput.document": TextRule(MAX_WEBHOOK_DOCUMENT, multiline=True),
    # Business buyers (#21, resolvers/companies.py): markets, currencies and SKUs are codes.
    "CreateCompanyInput.market": CODE,
    "UpdateCompanyInput.market": CODE,
    "CreateCompanyInput.taxId": TextRule(MAX_TAX_ID),
    "UpdateCompanyInput.taxId": TextRule(MAX_TAX_ID),
    "CreatePriceListInput.currency": CODE,
    "PriceInput.sku": CODE,
    "SetPriceListPricesInput.remove": CODE,
    # Business orders (#21, resolvers/company_orders.py).
    "PlaceOrderInput.purchaseOrderNumber": TextRule(MAX_PURCHASE_ORDER_NUMBER),
    "RejectOrderInput.reason": NOTE,
    "RecordInvoicePaymentInput.invoiceNumber": CODE,
    "RecordInvoicePaymentInput.reference": TextRule(MAX_PAYMENT_REFERENCE),
    # Bulk exports (schema/bulk_exports.py): a selection over Order, written over several lines if need be.
    "BulkExportQuery.selection": TextRule(MAX_EXPORT_SELECTION, multiline=True),
}

_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def rule_for(coordinate: str, type_name: str = "String") -> TextRule:
    """The rule for one input coordinate of the named type (String or ID)."""
    if type_name == "ID":
        return ID_RULE
    return TEXT_RULES.get(coordinate, DEFAULT_TEXT)


def text_problem(value: str, rule: TextRule) -> str | None:
    """What is wrong with `value` under `rule` (a phrase to follow the value's name), or None."""
    if len(value) > rule.max_length:
        return f"holds {len(value):,} characters; at most {rule.max_length:,} are allowed"
    refused = (_REFUSED_MULTILINE if rule.multiline else _REFUSED).search(value)
    if refused is None:
        return None
    code_point = f"U+{ord(refused.group()):04X}"
    if "\ud800" <= refused.group() <= "\udfff":
        return f"holds an unpaired surrogate ({code_point})"
    allowed = "tab, line feed and carriage return are the only ones allowed" if rule.multiline else "none is allowed"
    return f"holds a control character ({code_point}); {allowed}"


class InputRuleViolation(GraphQLError):
    def __init__(self, message: str, node: Any, code: str, field: Sequence[str]) -> None:
        super().__init__(message, nodes=[node], extensions={"code": code, "field": list(field)})


@dataclass(frozen=True, slots=True)
class _Argument:
    """An argument the operation passes (its value a literal or variables): where its rules are looked up."""

    node: ArgumentNode
    definition: GraphQLArgument
    owner: str  # "Type.field" or "@directive"
    where: str  # the field's or directive's name, as messages say it


def check_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    arguments: Sequence[_Argument],
    variables: Mapping[str, Any] | None,
) -> InputRuleViolation | None:
    """The first String or ID input value of the operation that would run that breaks its rule, as the error to
    answer, or None. `arguments`: operation_arguments' for the operation. Variables that do not coerce to their
    types are left to execution, which refuses them."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}), max_errors=1)
    if isinstance(coerced, list):
        return None
    for argument in arguments:
        value = value_from_ast(argument.node.value, argument.definition.type, coerced.coerced)
        if value is Undefined:
            continue
        name = argument.node.name.value
        violation = next(
            _values(
                value, argument.definition.type, f"{argument.owner}({name})", [name], argument.where, argument.node
            ),
            None,
        )
        if violation is not None:
            return violation
    return None


def operation_arguments(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> tuple[OperationDefinitionNode, list[_Argument]] | None:
    """The operation that would run, and every argument its selections (its fragments once each) and directives
    pass, in document order: what does not depend on the variables, so it is found once per document."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    return operation, [] if root is None else list(_Walker(schema, document).operation(operation, root))


class _Walker:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.seen: set[str] = set()

    def operation(self, operation: OperationDefinitionNode, root: GraphQLObjectType) -> Iterator[_Argument]:
        yield from self.directives(operation.directives)
        yield from self.selections(operation.selection_set, root)

    def selections(self, selections: SelectionSetNode | None, parent: GraphQLNamedType | None) -> Iterator[_Argument]:
        for selection in selections.selections if selections else ():
            yield from self.directives(selection.directives)
            if isinstance(selection, FieldNode):
                fields = parent.fields if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)) else {}
                definition = fields.get(selection.name.value)
                if definition is None:
                    continue  # __typename; validation refused anything else
                owner = f"{parent.name}.{selection.name.value}" if parent else selection.name.value
                yield from self.arguments(selection, definition.args, owner, selection.name.value)
                yield from self.selections(selection.selection_set, get_named_type(definition.type))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                yield from self.selections(
                    selection.selection_set, self.schema.get_type(condition.name.value) if condition else parent
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.seen:
                    continue  # the same fragment holds the same values wherever it is spread
                self.seen.add(name)
                yield from self.selections(
                    fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value)
                )

    def directives(self, directives: Sequence[DirectiveNode] | None) -> Iterator[_Argument]:
        for directive in directives or ():
            definition = self.schema.get_directive(directive.name.value)
            if definition is not None:
                yield from self.arguments(directive, definition.args, f"@{directive.name.value}", directive.name.value)

    def arguments(
        self, node: FieldNode | DirectiveNode, definitions: Mapping[str, GraphQLArgument], owner: str, where: str
    ) -> Iterator[_Argument]:
        for argument in node.arguments or ():
            definition = definitions.get(argument.name.value)
            if definition is not None:
                yield _Argument(argument, definition, owner, where)


def _values(
    value: Any, type_: GraphQLInputType, coordinate: str, path: list[str], where: str, node: Any
) -> Iterator[InputRuleViolation]:
    """Every rule broken in one coerced input value of `type_` (lists and input objects walked through)."""
    if value is None:
        return
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        for index, item in enumerate(value):
            yield from _values(item, type_.of_type, coordinate, [*path, str(index)], where, node)
    elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
        for name, field in type_.fields.items():
            key = field.out_name or name
            if key in value:
                yield from _values(value[key], field.type, f"{type_.name}.{name}", [*path, name], where, node)
    elif isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID") and isinstance(value, str):
        problem = text_problem(value, rule_for(coordinate, type_.name))
        if problem is not None:
            code = "INVALID_ID" if type_.name == "ID" else "BAD_USER_INPUT"
            kind = "is not an ID this graph issued: it" if type_.name == "ID" else ""
            message = " ".join(filter(None, [f"{'.'.join(path)} of {where}", kind, problem])) + "."
            yield InputRuleViolation(message, node, code, path)
    elif isinstance(type_, GraphQLScalarType) and isinstance(value, datetime):
        problem = time_problem(value)
        if problem is not None:
            yield InputRuleViolation(f"{'.'.join(path)} of {where} {problem}.", node, "BAD_USER_INPUT", path)


def time_problem(value: datetime) -> str | None:
    """What is wrong with a DateTime a client sent, or None: it must say its offset from UTC (ISO 8601 without
    one, or a date alone, names no instant), and be a time that UTC can hold (9999-12-31T23:00:00-05:00 is not)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "is a time without an offset from UTC; give one, e.g. 2026-11-20T17:00:00Z"
    try:
        value.astimezone(UTC)
    except OverflowError:
        return "is out of range once taken to UTC"
    return None


class InputRules(SchemaExtension):
    """Refuses the operation before it executes when one of its String or ID input values breaks its rule. It
    sits after RequestLimits and validation (it reads the validated document and the variables as they coerce)
    and before the customer result cache and execution. The arguments a document passes are found once per
    document text and operation (`arguments`, kept per schema: clients send the same few documents)."""

    def __init__(self, arguments: "PerDocument[tuple[OperationDefinitionNode, list[_Argument]] | None]") -> None:
        self.arguments = arguments

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            schema = context.schema._schema

            def find() -> tuple[OperationDefinitionNode, list[_Argument]] | None:
                return operation_arguments(schema, document, context.operation_name)

            found = self.arguments.get((context.query, context.operation_name), find) if context.query else find()
            violation = None if found is None else check_operation(schema, *found, context.variables)
            if violation is not None:
                raise violation
        yield


def input_rules() -> "functools.partial[InputRules]":
    """The extension factory for one schema: Strawberry builds the extension per request, around one store."""
    return functools.partial(InputRules, PerDocument())


# A connection's cursor: written by the server and sent back as it was, so its limit goes without saying.
CURSOR_ARGUMENT = "after"


def describe_input_rules(schema: GraphQLSchema) -> None:
    """Adds each String input's limit ("At most 200 characters.") to its description in the schema, once
    (cursors' aside)."""
    for type_ in schema.type_map.values():
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, GraphQLInputObjectType):
            for name, input_field in type_.fields.items():
                _describe(input_field, f"{type_.name}.{name}")
        elif isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in type_.fields.items():
                for name, argument in field.args.items():
                    if name != CURSOR_ARGUMENT:
                        _describe(argument, f"{type_.name}.{field_name}({name})")


def _describe(value: Any, coordinate: str) -> None:
    named = get_named_type(value.type)
    if not (isinstance(named, GraphQLScalarType) and named.name == "String"):
        return
    rule = rule_for(coordinate)
    each = " each" if _is_list(value.type) else ""
    limit = f"At most {rule.max_length:,} characters{each}."
    description = value.description or ""
    if f"at most {rule.max_length:,} characters" in description.lower():
        return
    value.description = f"{description} {limit}" if description else limit


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
