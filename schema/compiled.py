"""The trusted-document fast path (#20): a trusted query planned once, then run without the generic executor.

The clients' documents are known at start-up (schema/trusted_documents.py: the manifest's bodies and the contract's
operations as the server's tests and benchmarks send them). For one of those, when it is a query, the compiler
walks the operation's selection with the GraphQL schema once and builds a plan: for each field on each concrete
type, how its value is got (the Strawberry resolver, called as Strawberry calls it, or the attribute read of a
field without one) and how it completes (a leaf serialised by its GraphQL type, an object, a list, an abstract
type's concrete one). Fragments, inline fragments, aliases, __typename and @include/@skip are settled at compile
time (a document whose @include/@skip read variables is planned once per value of those variables).

A plan runs level by level: every field of every object at one depth is resolved, the awaitables among them
gathered together, so the loaders batch as they do under the generic executor (never into more statements).

Invariants:
- The generic executor stays the reference. The plan answers only what it answers identically; anything it does
  not support (a construct at compile time; an `info` attribute beyond `context` and `schema`, a schema
  extension or field extension it does not know), and any error or null where the type forbids one while it runs,
  discards the plan's work for that request and lets the generic executor run it (FALLBACKS counts it). Only
  queries are planned, so the discarded work read and wrote nothing that matters.
- Everything in front of execution stays in front of both paths: request limits, cost and throttling
  (RequestLimits, which also reports extensions.cost from the data either path returns), validation, input rules
  and the customers' result cache, which keeps and serves the plan's results as it does the executor's.
"""

import asyncio
import inspect
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_argument_values,
    get_directive_values,
    get_variable_values,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
)
from sqlalchemy.orm import InstrumentedAttribute
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType

from ordergraph.models import Order
from ordergraph.resolvers import bulk_exports
from ordergraph.resolvers.access import Role
from ordergraph.resolvers.orders import OrderKey
from ordergraph.schema.awaitables import is_awaitable
from ordergraph.schema.permissions import PersonalData
from ordergraph.schema.trusted_documents import TrustedDocuments, contract_documents
from ordergraph.subscriptions.wire import Prebuilt

# Requests each path answered, by operation name: the fast path's, and those it handed to the generic executor.
SERVED: Counter[str] = Counter()
FALLBACKS: Counter[str] = Counter()
# Objects the plans built from rows (Rows) rather than field by field, by GraphQL type.
ROWS_READ: Counter[str] = Counter()

DEFINITION = "strawberry-definition"  # where Strawberry keeps a GraphQL field's own definition (its back-reference)


class Unsupported(Exception):
    """The plan cannot answer this as the generic executor would: the generic executor runs it."""


class Divergence(Exception):
    """This request's data gives an answer the plan does not build (an error, a null where none may be)."""


class PlanInfo:
    """What a planned resolver gets as `info`: the request's context and the schema, and whether Rows answer every
    order of its field (`orders_as_rows`). Anything else a resolver asks of it (its path, its selection) is
    unsupported, and the request runs through the generic executor."""

    __slots__ = ("context", "orders_as_rows", "schema")

    def __init__(self, context: Any, schema: Any, *, orders_as_rows: bool = False) -> None:
        self.context = context
        self.schema = schema
        self.orders_as_rows = orders_as_rows

    def __getattr__(self, name: str) -> Any:
        raise Unsupported(f"a resolver reads info.{name}")


def orders_as_rows(info: Any) -> bool:
    """Whether a staff member's planned request answers every order of this resolver's field with Rows, which
    read an order by its id: the resolver may then give OrderKeys (resolvers.orders) for orders."""
    return type(info) is PlanInfo and info.orders_as_rows


# Completions: how a resolved value becomes its answer. -----------------------------------------------------------


@dataclass(slots=True)
class Leaf:
    serialize: Callable[[Any], Any]
    non_null: bool


@dataclass(slots=True)
class ListOf:
    item: "Completion"
    non_null: bool


@dataclass(slots=True)
class Object:
    type: GraphQLObjectType
    fields: list["Field"]
    non_null: bool


@dataclass(slots=True)
class Abstract:
    """An interface or union: the concrete type is chosen per value, its selection compiled on first sight."""

    name: str
    possible: tuple[GraphQLObjectType, ...]
    selection_sets: tuple[SelectionSetNode, ...]
    non_null: bool
    compiler: "Compiler"
    by_type: dict[str, Object] = field(default_factory=dict)


@dataclass(slots=True)
class Rows:
    """An Order whose whole selection is one the bulk exports compile to SQL (resolvers.bulk_exports: scalars,
    Money, the customer, the address, the delivery method and pickup location, lines, shipments with their scans,
    returns, __typename, no arguments or aliases): every such order of one level is read together (on PostgreSQL
    as the JSON the database writes for it, which goes into the answer as it is: subscriptions.wire.Prebuilt)
    instead of field by field, masked for the viewer's role as the fields mask it. `object` completes anything
    that is not an order the resolvers gave (never, as the types stand: it keeps the plan whole)."""

    shape: bulk_exports.Shape
    object: Object
    non_null: bool
    plans: dict[Role, bulk_exports.ExportPlan] = field(default_factory=dict)

    def plan(self, viewer: Any) -> bulk_exports.ExportPlan:
        plan = self.plans.get(viewer.role)
        if plan is None:
            plan = self.plans[viewer.role] = bulk_exports.compile_plan(self.shape, viewer, text_times=True)
        return plan


Completion = Leaf | ListOf | Object | Abstract | Rows

TYPENAME, ATTRIBUTE, RESOLVER = 0, 1, 2
ORDER_TYPE = "Order"  # the GraphQL type whose selections Rows may answer
NOT_MASKED = object()


@dataclass(slots=True)
class Field:
    """One response key of a selection on one concrete type."""

    key: str
    kind: int  # TYPENAME (value: the type's name), ATTRIBUTE (read `python_name`) or RESOLVER (call `call`)
    value: Any = None
    python_name: str = ""
    call: Callable[..., Any] | None = None
    pass_self: bool = False
    root_name: str | None = None  # the resolver's root (or parent) parameter
    info_name: str | None = None
    orders_as_rows: bool = False  # Rows answer every order of its completion (see `_orders_as_rows`)
    masked: Any = NOT_MASKED  # PersonalData's answer for viewers who may not see personal data
    arguments: Callable[["Run"], dict[str, Any]] | None = None  # the resolver's keyword arguments, once a request
    complete: Completion | None = None
    # Shortcuts for the commonest fields: an attribute read straight (no mask), a leaf serialised straight.
    plain: bool = False
    serialize: Callable[[Any], Any] | None = None
    non_null: bool = False
    # The class whose instances' attribute is read from their __dict__ (see _reads_from_dict), learnt on first sight.
    from_dict: type | None = None


class Compiler:
    """Plans one operation of a validated document for one set of @include/@skip decisions."""

    def __init__(self, schema: Any, document: DocumentNode, operation: OperationDefinitionNode, variables: Any) -> None:
        self.strawberry_schema = schema
        self.schema: GraphQLSchema = schema._schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.operation = operation
        self.variables = variables  # graphql-core's coerced VariableValues, for @include/@skip only
        self.scalar_registry = schema.schema_converter.scalar_registry
        self.config = schema.config

    def root(self) -> Object:
        root = self.schema.query_type
        if root is None:
            raise Unsupported("no query type")
        return Object(root, self.selection(root, (self.operation.selection_set,)), True)

    def selection(self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]) -> list[Field]:
        return [self._field(runtime, key, nodes) for key, nodes in self._grouped(runtime, selection_sets).items()]

    def _grouped(
        self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The field nodes of `selection_sets` on `runtime`, by response key."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(runtime, selection_set, grouped, visited)
        return grouped

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in ("include", "skip"):
                raise Unsupported(f"@{directive.name.value}")
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip["if"] is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include["if"] is False)

    def _matches(self, runtime: GraphQLObjectType, fragment: InlineFragmentNode | FragmentDefinitionNode) -> bool:
        if fragment.type_condition is None:
            return True
        condition = self.schema.get_type(fragment.type_condition.name.value)
        if condition is runtime:
            return True
        return condition is not None and is_abstract_type(condition) and self.schema.is_sub_type(condition, runtime)

    def _collect(
        self,
        runtime: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        """graphql-core's field collection (execution/collect_fields.py), without @defer."""
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._matches(runtime, selection):
                    self._collect(runtime, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is not None and self._matches(runtime, fragment):
                    self._collect(runtime, fragment.selection_set, grouped, visited)
            else:
                raise Unsupported(type(selection).__name__)

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> Field:
        name = nodes[0].name.value
        if name == "__typename":
            return Field(key, TYPENAME, value=parent.name)
        if name.startswith("__"):
            raise Unsupported("introspection")
        definition = parent.fields.get(name)
        if definition is None:
            raise Unsupported(f"{parent.name}.{name} is not in the schema")
        strawberry_field = (definition.extensions or {}).get(DEFINITION)
        if strawberry_field is None or definition.resolve is None:
            raise Unsupported(f"{parent.name}.{name} is not Strawberry's")
        if type(strawberry_field).get_result is not StrawberryField.get_result:
            raise Unsupported(f"{parent.name}.{name} gets its result its own way")
        planned = Field(key, ATTRIBUTE, python_name=strawberry_field.python_name)
        for extension in strawberry_field.extensions:
            if type(extension) is not PersonalData:
                raise Unsupported(f"{parent.name}.{name} has the field extension {type(extension).__name__}")
            planned.masked = extension.masked
        resolver = strawberry_field.base_resolver
        if resolver is not None:
            planned.kind = RESOLVER
            planned.call = resolver.wrapped_func
            if not callable(planned.call):
                raise Unsupported(f"{parent.name}.{name}: an uncallable resolver")
            planned.pass_self = resolver.self_parameter is not None
            root = resolver.root_parameter or resolver.parent_parameter
            planned.root_name = root.name if root is not None else None
            planned.info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
            if definition.args:
                planned.arguments = partial(self._arguments, definition, nodes[0], strawberry_field)
        elif definition.args:
            raise Unsupported(f"{parent.name}.{name}: arguments without a resolver")
        elif strawberry_field.default_resolver is not getattr:
            raise Unsupported(f"{parent.name}.{name}: a default resolver of its own")
        planned.complete = completion = self._completion(definition.type, nodes)
        planned.orders_as_rows = planned.info_name is not None and _orders_as_rows(completion)
        planned.plain = planned.kind == ATTRIBUTE and planned.masked is NOT_MASKED
        if isinstance(completion, Leaf):
            planned.serialize, planned.non_null = completion.serialize, completion.non_null
        return planned

    def _arguments(self, definition: Any, node: FieldNode, strawberry_field: Any, run: "Run") -> dict[str, Any]:
        """The resolver's keyword arguments as Strawberry converts them (the same for every object)."""
        values = get_argument_values(definition, node, run.variables)
        converted = convert_arguments(
            values, strawberry_field.arguments, scalar_registry=self.scalar_registry, config=self.config, info=None
        )
        for extension in strawberry_field.extensions:
            converted = extension.map_arguments(converted)
        return converted

    def _completion(self, type_: GraphQLType, nodes: list[FieldNode]) -> Completion:
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList):
            return ListOf(self._completion(inner.of_type, nodes), non_null)
        if is_leaf_type(inner):
            return Leaf(inner.serialize, non_null)  # type: ignore[union-attr]
        selection_sets = tuple(n.selection_set for n in nodes if n.selection_set is not None)
        if is_object_type(inner):
            planned = Object(inner, self.selection(inner, selection_sets), non_null)  # type: ignore[arg-type]
            if inner.name == ORDER_TYPE:
                shape = self._rows_shape(inner, selection_sets, bulk_exports.ORDER)  # type: ignore[arg-type]
                if shape is not None:
                    return Rows(shape, planned, non_null)
            return planned
        if is_abstract_type(inner):
            possible = tuple(self.schema.get_possible_types(inner))  # type: ignore[arg-type]
            return Abstract(inner.name, possible, selection_sets, non_null, self)  # type: ignore[union-attr]
        raise Unsupported(f"a field of type {inner}")

    def _rows_shape(
        self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode], spec: dict[str, Any]
    ) -> bulk_exports.Shape | None:
        """The selection as an export's shape, or None when the rows cannot answer it exactly: a field the export
        does not have, an alias, arguments, or a null the rows could give (a nullable column, a masked value)
        where the field's type forbids one."""
        shape: bulk_exports.Shape = {}
        for key, nodes in self._grouped(runtime, selection_sets).items():
            name = nodes[0].name.value
            if key == name == bulk_exports.TYPENAME:  # as Apollo Client adds it to every selection set
                shape[key] = runtime.name
                continue
            definition = runtime.fields.get(name)
            part = spec.get(name)
            if key != name or part is None or definition is None or any(n.arguments for n in nodes):
                return None
            non_null = isinstance(definition.type, GraphQLNonNull)
            if non_null and getattr(part, "kind", None) is not None:
                return None
            if isinstance(part, bulk_exports.Leaf):
                if non_null and not part.never_null:
                    return None
                shape[key] = None
                continue
            if non_null and isinstance(part, bulk_exports.Group) and part.nullable:
                return None
            inner_type = definition.type.of_type if non_null else definition.type  # type: ignore[attr-defined]
            if isinstance(part, bulk_exports.Children):
                if not isinstance(inner_type, GraphQLList):
                    return None
                item = inner_type.of_type
                if not isinstance(item, GraphQLNonNull):  # the rows never hold a null item: the types agree
                    return None
                inner_type = item.of_type
            inner = self._rows_shape(
                inner_type, [n.selection_set for n in nodes if n.selection_set is not None], part.fields
            )
            if inner is None:
                return None
            shape[key] = [inner] if isinstance(part, bulk_exports.Children) else inner
        return shape or None

    def concrete(self, abstract: Abstract, value: Any) -> Object:
        """The object completion for `value` under an abstract type: the one possible type that claims it."""
        definition = getattr(value, "__strawberry_definition__", None)
        if definition is not None:
            if definition.is_graphql_generic:
                raise Unsupported(f"{abstract.name}: a generic type")
            claimed = [t for t in abstract.possible if t.name == definition.name]
        else:
            claimed = [t for t in abstract.possible if t.is_type_of is not None and t.is_type_of(value, None) is True]
        if not claimed:  # the generic executor answers an error
            raise Divergence(f"{abstract.name}: no type claims a {type(value).__name__}")
        if len(claimed) > 1:
            raise Unsupported(f"{abstract.name}: {len(claimed)} types claim a {type(value).__name__}")
        runtime = claimed[0]
        planned = abstract.by_type.get(runtime.name)
        if planned is None:
            planned = abstract.by_type[runtime.name] = Object(
                runtime, self.selection(runtime, abstract.selection_sets), abstract.non_null
            )
        return planned


def _orders_as_rows(completion: Completion | None) -> bool:
    """Whether Rows answer every order in `completion`: it holds a Rows and no other completion of an Order (nor
    an interface or union, which could be one). Its other objects (a connection's edges, page info) read the
    orders' sort keys at most."""
    found = False

    def only_rows(part: Completion | None) -> bool:
        nonlocal found
        if isinstance(part, Rows):
            found = True
            return True
        if isinstance(part, ListOf):
            return only_rows(part.item)
        if isinstance(part, Object):
            return part.type.name != ORDER_TYPE and all(only_rows(f.complete) for f in part.fields)
        return not isinstance(part, Abstract)

    return only_rows(completion) and found


def _conditional_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables @include/@skip read anywhere in the document: a plan is made per value of those."""
    found: list[str] = []

    def visit(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in ("include", "skip"):
                    for argument in directive.arguments or ():
                        if isinstance(argument.value, VariableNode) and argument.value.name.value not in found:
                            found.append(argument.value.name.value)
            if isinstance(selection, FieldNode | InlineFragmentNode):
                visit(selection.selection_set)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            visit(definition.selection_set)
    return tuple(found)


@dataclass(slots=True)
class Plan:
    name: str
    root: Object


class Run:
    """One request's run of a plan."""

    __slots__ = ("arguments", "info", "rows", "rows_info", "sees_personal_data", "staff", "variables")

    def __init__(self, context: Any, schema: Any, variables: Any) -> None:
        self.info = PlanInfo(context, schema)
        self.variables = variables
        self.sees_personal_data = context.viewer.sees_personal_data
        self.staff = context.viewer.is_staff  # who may see any order: fields may give them OrderKeys
        # For fields whose orders Rows answer, staff's only: such a field gives OrderKeys, which Rows read without
        # asking (anyone else's fields give the orders they may see, which Rows read again).
        self.rows_info = PlanInfo(context, schema, orders_as_rows=True) if self.staff else self.info
        self.arguments: dict[int, dict[str, Any]] = {}
        self.rows: list[tuple[Rows, int, Prebuilt]] = []  # orders of this level left to Rows

    async def execute(self, root: Object) -> dict[str, Any]:
        data: dict[str, Any] = {}
        level: list[tuple[list[Field], Any, dict[str, Any]]] = [(root.fields, None, data)]
        while level:
            following: list[tuple[list[Field], Any, dict[str, Any]]] = []
            waiting: list[Awaitable[Any]] = []
            places: list[tuple[Field, dict[str, Any]]] = []
            try:
                for fields, source, answer in level:
                    for planned in fields:
                        if planned.plain:
                            if type(source) is planned.from_dict:
                                value = source.__dict__.get(planned.python_name, Undefined)
                                if value is Undefined:
                                    value = getattr(source, planned.python_name)
                            else:
                                value = getattr(source, planned.python_name)
                                if planned.from_dict is None and _reads_from_dict(type(source), planned.python_name):
                                    planned.from_dict = type(source)
                        elif planned.kind == TYPENAME:
                            answer[planned.key] = planned.value
                            continue
                        else:
                            value = self.resolve(planned, source)
                        if is_awaitable(value):
                            answer[planned.key] = None  # keeps the selection's order
                            waiting.append(value)
                            places.append((planned, answer))
                        elif planned.serialize is not None and value is not None:  # the commonest: a leaf's value
                            serialized = planned.serialize(value)
                            if serialized is None or serialized is Undefined:
                                raise Divergence("a leaf that does not serialise")
                            answer[planned.key] = serialized
                        else:
                            answer[planned.key] = self.finish(planned, value, following)
            except BaseException:
                _discard(waiting)
                raise
            if waiting:
                # Every awaitable of the level at once (the loaders batch them), each one left to finish.
                values = await settle(waiting)
                for value in values:
                    if isinstance(value, BaseException):
                        raise value
                for (planned, answer), value in zip(places, values, strict=True):
                    answer[planned.key] = self.finish(planned, value, following)
            if self.rows:
                await self.read_rows()
            level = following
        return data

    async def read_rows(self) -> None:
        """The level's orders left to Rows, read and built together (per Rows: per selection)."""
        waiting, self.rows = self.rows, []
        by_selection: dict[int, tuple[Rows, list[tuple[int, Prebuilt]]]] = {}
        for rows, order_id, answer in waiting:
            by_selection.setdefault(id(rows), (rows, []))[1].append((order_id, answer))
        context = self.info.context
        for rows, answers in by_selection.values():
            plan = rows.plan(context.viewer)
            ids = [order_id for order_id, _ in answers]
            found = await bulk_exports.orders_by_id(context.read_connection, plan, ids)
            for order_id, answer in answers:
                built = found.get(order_id)
                if built is None:
                    raise Divergence("an order of the page is gone")
                answer.json, answer.value, answer.objects = built.json, built.value, built.objects
            ROWS_READ[ORDER_TYPE] += len(answers)

    def finish(self, planned: Field, value: Any, following: list[tuple[list[Field], Any, dict[str, Any]]]) -> Any:
        """A field's value as it is answered (a leaf serialised here; objects left for the next level)."""
        serialize = planned.serialize
        if serialize is None:
            return self.complete(planned.complete, value, following)
        if value is None or value is Undefined:
            if planned.non_null:
                raise Divergence("null where the type forbids it")
            return None
        serialized = serialize(value)
        if serialized is None or serialized is Undefined:
            raise Divergence("a leaf that does not serialise")
        return serialized

    def resolve(self, planned: Field, source: Any) -> Any:
        if planned.masked is not NOT_MASKED and not self.sees_personal_data:
            return planned.masked
        if planned.kind == ATTRIBUTE:
            return getattr(source, planned.python_name)
        arguments = planned.arguments
        if arguments is None:
            kwargs: dict[str, Any] = {}
        else:
            given = self.arguments.get(id(planned))
            if given is None:
                given = self.arguments[id(planned)] = arguments(self)
            kwargs = dict(given)
        if planned.root_name is not None:
            kwargs[planned.root_name] = source
        if planned.info_name is not None:
            kwargs[planned.info_name] = self.rows_info if planned.orders_as_rows else self.info
        call = planned.call
        assert call is not None
        return call(source, **kwargs) if planned.pass_self else call(**kwargs)

    def complete(
        self, completion: Completion | None, value: Any, following: list[tuple[list[Field], Any, dict[str, Any]]]
    ) -> Any:
        if value is None or value is Undefined:
            if completion is not None and completion.non_null:
                raise Divergence("null where the type forbids it")
            return None
        if isinstance(value, Exception):
            raise Divergence("a resolver returned an error")
        if isinstance(completion, Leaf):
            serialized = completion.serialize(value)
            if serialized is None or serialized is Undefined:
                raise Divergence("a leaf that does not serialise")
            return serialized
        if isinstance(completion, Object):
            is_type_of = completion.type.is_type_of
            if is_type_of is not None and is_type_of(value, None) is not True:
                raise Divergence(f"not a {completion.type.name}")
            answer: dict[str, Any] = {}
            following.append((completion.fields, value, answer))
            return answer
        if isinstance(completion, ListOf):
            if not isinstance(value, list | tuple):
                raise Unsupported(f"a list given as {type(value).__name__}")
            item = completion.item
            return [self.complete(item, element, following) for element in value]
        if isinstance(completion, Rows):
            # An Order is one a resolver gave this viewer, so may show them: Rows read it again by its id, as one
            # of the level's. An OrderKey is given to staff's fields whose orders are all Rows only (`orders_as_rows`).
            if type(value) is OrderKey or type(value) is Order:
                prebuilt = Prebuilt()
                self.rows.append((completion, value.id, prebuilt))
                return prebuilt
            return self.complete(completion.object, value, following)
        if isinstance(completion, Abstract):
            return self.complete(completion.compiler.concrete(completion, value), value, following)
        raise Unsupported(type(completion).__name__)


async def settle(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """Each awaitable's value, or the exception it raised, as asyncio.gather(..., return_exceptions=True) gives
    them, without wrapping each coroutine in a Task (a Task cost ~10 us; an OrdersExport page awaits ~1,500
    resolvers). The coroutines are stepped here, in this task and its context, as a Task would step them: each
    runs until it waits on a future (a loader's), and all of them resume once their futures are done, so the
    loads they issue next are batched together as before. Whatever a coroutine waits on must be an asyncio
    future (what `await` of a Future, Task or gather yields) or a bare yield (asyncio.sleep(0)); anything else
    is Unsupported. If this task is cancelled, the suspended coroutines are closed. Unlike Tasks, the coroutines
    share this task's context: a resolver that sets a context variable across an await is not supported (none
    does; the generic executor would isolate it)."""
    results: list[Any] = [None] * len(awaitables)
    blocked: list[tuple[int, Any, Any]] = []  # (index, coroutine, the future it waits on or None)

    def step(index: int, coroutine: Any) -> None:
        try:
            waits_on = coroutine.send(None)
        except StopIteration as finished:
            results[index] = finished.value
            return
        except Exception as error:  # noqa: BLE001  (the resolver's error: returned, as gather returns it)
            results[index] = error
            return
        if waits_on is not None:
            if not getattr(waits_on, "_asyncio_future_blocking", False):
                coroutine.close()
                raise Unsupported(f"a resolver waits on {type(waits_on).__name__}")
            waits_on._asyncio_future_blocking = False  # as a Task does when it takes the future over
        blocked.append((index, coroutine, waits_on))

    try:
        for index, awaitable in enumerate(awaitables):
            if inspect.iscoroutine(awaitable):
                step(index, awaitable)
            else:
                future = asyncio.ensure_future(awaitable)
                blocked.append((index, future, future))
        while blocked:
            if any(future is None for _, _, future in blocked):
                await asyncio.sleep(0)  # a bare yield: the loop runs once before it resumes
            else:
                futures = {id(future): future for _, _, future in blocked}
                await asyncio.wait(futures.values(), return_when=asyncio.FIRST_COMPLETED)
            waiting, blocked = blocked, []
            for index, pending, future in waiting:
                if future is not None and not future.done():
                    blocked.append((index, pending, future))
                elif isinstance(pending, asyncio.Future):  # an awaitable that was not a coroutine
                    results[index] = pending.exception() or pending.result()
                else:
                    step(index, pending)
    except BaseException:
        for awaitable in awaitables:  # those suspended, and those not started yet
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            elif isinstance(awaitable, asyncio.Future):
                awaitable.cancel()
        raise
    return results


def _reads_from_dict(kind: type, name: str) -> bool:
    """Whether reading `name` of a `kind` instance is reading its __dict__ when the value is there: no data
    descriptor on the class takes precedence, except a mapped column's (SQLAlchemy's InstrumentedAttribute returns
    the __dict__ value itself; the loaders' rows keep theirs there, and its __get__ cost a tenth of an
    OrdersExport page)."""
    attribute = inspect.getattr_static(kind, name, None)
    return isinstance(attribute, InstrumentedAttribute) or not hasattr(type(attribute), "__set__")


def _discard(waiting: list[Awaitable[Any]]) -> None:
    for awaitable in waiting:
        if inspect.iscoroutine(awaitable):
            awaitable.close()


def trusted_texts() -> frozenset[str]:
    """The documents the fast path plans: the manifest's bodies and the contract's operations as printed."""
    manifest = TrustedDocuments.load(required=False).by_hash.values()
    return frozenset([*manifest, *(text for _, text in contract_documents().values())])


class Plans:
    """The plans of one schema (so one process), by document text, operation and @include/@skip decisions.
    A document that cannot be planned is remembered as such and always runs through the generic executor."""

    def __init__(self, trusted: frozenset[str] | None = None) -> None:
        self.trusted = trusted_texts() if trusted is None else trusted
        self._plans: dict[tuple[str, str | None], dict[tuple[Any, ...], Plan | None]] = {}
        self._conditionals: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self.refused: dict[str, str] = {}  # operation name -> why it is not planned (first reason seen)
        self.schema_supported: bool | None = None  # decided on the first request (the schema is built by then)

    def plan(
        self, schema: Any, text: str, document: DocumentNode, operation_name: str | None, variables: Any
    ) -> Plan | None:
        key = (text, operation_name)
        conditionals = self._conditionals.get(key)
        if conditionals is None:
            conditionals = self._conditionals[key] = _conditional_variables(document)
        decisions = tuple(variables.coerced.get(name) for name in conditionals)
        by_decisions = self._plans.setdefault(key, {})
        if decisions in by_decisions:
            return by_decisions[decisions]
        planned: Plan | None = None
        name = operation_name or "(anonymous)"
        try:
            operation = _operation(document, operation_name)
            name = operation.name.value if operation.name else name
            planned = Plan(name, Compiler(schema, document, operation, variables).root())
        except Unsupported as reason:
            self.refused.setdefault(name, str(reason))
        if len(by_decisions) < 16:  # a few per document: @include/@skip variables are booleans
            by_decisions[decisions] = planned
        return planned

    def forget(self, text: str, operation_name: str | None, reason: str, name: str) -> None:
        """A plan that met something it cannot give at run time (an info attribute): never used again."""
        for decisions in self._plans.get((text, operation_name), {}):
            self._plans[(text, operation_name)][decisions] = None
        self.refused.setdefault(name, reason)


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            raise Unsupported("no single operation")
        chosen = operations[0]
    else:
        chosen = next((o for o in operations if o.name and o.name.value == operation_name), None)  # type: ignore[assignment]
        if chosen is None:
            raise Unsupported("no operation of that name")
    if chosen.operation.value != "query":
        raise Unsupported(f"a {chosen.operation.value}")
    return chosen


def _schema_supported(schema: Any) -> bool:
    """Schema extensions that wrap every resolver, and Strawberry exception handlers, run only in the generic
    executor: with either, nothing is planned."""
    if getattr(schema, "exception_handlers", ()):
        return False
    for extension in schema.extensions:
        factory = extension.func if isinstance(extension, partial) else extension
        cls = factory if isinstance(factory, type) else type(factory)
        if getattr(cls, "resolve", SchemaExtension.resolve) is not SchemaExtension.resolve:
            return False
    return True


class FastPath(SchemaExtension):
    """The last extension: when nothing before it answered (the result cache), a planned trusted query is answered
    here and Strawberry skips execution; anything else, and any request the plan gives up on, executes as usual."""

    def __init__(self, plans: Plans) -> None:
        self.plans = plans

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if (
            execution.result is None
            and execution.operation_type is OperationType.QUERY
            and execution.root_value is None
            and execution.query in self.plans.trusted
            and execution.graphql_document is not None
            and self._schema_supported()
        ):
            data = await self._answer()
            if data is not None:
                execution.result = ExecutionResult(data=data)
        yield

    def _schema_supported(self) -> bool:
        if self.plans.schema_supported is None:
            self.plans.schema_supported = _schema_supported(self.execution_context.schema)
        return self.plans.schema_supported

    async def _answer(self) -> dict[str, Any] | None:
        execution = self.execution_context
        schema = execution.schema
        document = execution.graphql_document
        assert document is not None
        assert execution.query is not None
        try:
            operation = _operation(document, execution.operation_name)
        except Unsupported:
            return None
        variables = get_variable_values(schema._schema, operation.variable_definitions or (), execution.variables or {})
        name = operation.name.value if operation.name else "(anonymous)"
        if isinstance(variables, list):  # they do not coerce: the generic executor answers the errors
            FALLBACKS[name] += 1
            return None
        plan = self.plans.plan(schema, execution.query, document, execution.operation_name, variables)
        if plan is None:
            FALLBACKS[name] += 1
            return None
        try:
            data = await Run(execution.context, schema, variables).execute(plan.root)
        except Unsupported as reason:
            self.plans.forget(execution.query, execution.operation_name, str(reason), name)
            FALLBACKS[name] += 1
            return None
        except Exception:  # noqa: BLE001  (an error, a null where none may be: the generic executor answers it)
            FALLBACKS[name] += 1
            return None
        SERVED[name] += 1
        return data


def fast_path() -> Callable[[], FastPath]:
    """The extension factory for one schema: its plans are kept for the process's lifetime."""
    return partial(FastPath, Plans())


__all__ = ["FALLBACKS", "ROWS_READ", "SERVED", "FastPath", "Plans", "fast_path"]
