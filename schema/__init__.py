"""The GraphQL schema: Strawberry types over the models, resolving through resolvers and loaders.

`ordergraph.schema.build` assembles it; importing a module here builds nothing."""
