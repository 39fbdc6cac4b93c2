"""Fields resolved without Strawberry's per-field wrapping, where it has nothing to do.

For every field with a resolver Strawberry builds an Info, converts the (absent) arguments, chains the (absent) field
extensions and calls the resolver through two more layers; for a field without one it goes through three calls to
reach `getattr`. An order history of 20 orders resolves some 500 fields of the first kind and 1,000 of the second, so
that wrapping was a fifth of a request's time (issue #20). Here, once the schema is built, each field that takes no
arguments, has no field extensions but PersonalData (its guard wraps the direct function) and no exception handlers
gets a resolve function that calls its resolver with the source, and an Info only when the resolver asks for one:
what Strawberry's wrapping would call it with. Mutation and subscription fields keep Strawberry's path (tracing
wraps mutations).

This reads Strawberry's field definitions (the `strawberry-definition` back-reference, StrawberryResolver's reserved
parameters): pyproject pins the Strawberry version it was written against.
"""

import inspect
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.types.field import StrawberryField

from ordergraph.schema.permissions import PersonalData

Resolve = Callable[[Any, GraphQLResolveInfo], Any]
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def resolve_directly(schema: strawberry.Schema) -> int:
    """Replaces the resolve function of each field that qualifies; returns how many did."""
    graphql_schema = schema._schema
    skipped = {graphql_schema.mutation_type, graphql_schema.subscription_type}
    converter = schema.schema_converter
    info_class = schema.config.info_class
    replaced = 0
    for type_ in graphql_schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__") or type_ in skipped:
            continue
        for graphql_field in type_.fields.values():
            field = (graphql_field.extensions or {}).get("strawberry-definition")
            if not isinstance(field, StrawberryField) or graphql_field.args:
                continue
            guards = [e for e in field.extensions if type(e) is PersonalData]
            if len(guards) != len(field.extensions) or converter._get_field_exception_handlers(field):
                continue
            direct = _direct(field, info_class, schema.config.default_resolver)
            if direct is None:
                continue
            for guard in guards:  # masked before the resolver runs (an async one's coroutine is never made)
                direct = guard.guard(direct)
            graphql_field.resolve = direct
            replaced += 1
    return replaced


def _direct(field: StrawberryField, info_class: type, default_resolver: Callable[[Any, str], object]) -> Resolve | None:
    resolver = field.base_resolver
    if resolver is None:
        if default_resolver is not getattr:
            return None
        get = attrgetter(field.python_name)

        def attribute(source: Any, _info: GraphQLResolveInfo) -> Any:
            return get(source)

        attribute._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
        return attribute

    if resolver.arguments:
        return None
    sources = {p.name for p in (resolver.self_parameter, resolver.root_parameter, resolver.parent_parameter) if p}
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    call = resolver.wrapped_func
    try:
        parameters = list(inspect.signature(call).parameters.values())
    except (TypeError, ValueError):
        return None
    roles = []
    for parameter in parameters:
        if parameter.kind not in POSITIONAL:
            return None
        if parameter.name in sources:
            roles.append("source")
        elif parameter.name == info_name:
            roles.append("info")
        else:
            return None

    if roles == ["source"]:

        def of_source(source: Any, _info: GraphQLResolveInfo) -> Any:
            return call(source)

        return of_source
    if roles == ["source", "info"]:

        def of_source_and_info(source: Any, info: GraphQLResolveInfo) -> Any:
            return call(source, info_class(_raw_info=info, _field=field))

        return of_source_and_info
    if roles == ["info"]:

        def of_info(_source: Any, info: GraphQLResolveInfo) -> Any:
            return call(info_class(_raw_info=info, _field=field))

        return of_info
    return None
