"""The composition root: settings, database, Starlette app and lifespan, authentication, CLI."""
