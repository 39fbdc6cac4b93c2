"""Field-level masking of customers' personal data for analysts (the rule is resolvers.access)."""

from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import FieldExtension

from ordergraph.schema.info import Info


class PersonalData(FieldExtension):
    """Resolves to `masked` (null, or [] for a list) when the viewer may not see personal data."""

    def __init__(self, masked: Any = None) -> None:
        self.masked = masked

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        if not info.context.viewer.sees_personal_data:
            return self.masked
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        if not info.context.viewer.sees_personal_data:
            return self.masked
        return await next_(source, info, **kwargs)

    def guard(self, resolve: Callable[[Any, GraphQLResolveInfo], Any]) -> Callable[[Any, GraphQLResolveInfo], Any]:
        """The same rule around a field's graphql-core resolve function (schema.direct_resolvers)."""
        masked = self.masked

        def guarded(source: Any, info: GraphQLResolveInfo) -> Any:
            if not info.context.viewer.sees_personal_data:
                return masked
            return resolve(source, info)

        return guarded
