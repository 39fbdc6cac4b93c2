"""`Info`, what strawberry hands a resolver of this schema, typed once: its context is the request's
RequestContext (ordergraph.resolvers.context) and the schema has no root value.

Annotate a resolver's `info` parameter with it: strawberry finds that parameter by its annotation, and the
generic alias is one it recognises, like bare `strawberry.Info`.
"""

import strawberry

from ordergraph.resolvers.context import RequestContext

Info = strawberry.Info[RequestContext, None]
