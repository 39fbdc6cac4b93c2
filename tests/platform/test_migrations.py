from sqlmodel import SQLModel, text

from ordergraph import models  # noqa: F401


async def test_migrated_database_has_every_table_and_the_postal_codes(empty_db):
    async with empty_db.read() as session:
        conn = await session.connection()
        tables = await conn.run_sync(lambda c: set(__import__("sqlalchemy").inspect(c).get_table_names()))
        count = (await session.exec(text("SELECT count(*) FROM postal_code WHERE metro_area = 'Chicago'"))).one()[0]
    assert set(SQLModel.metadata.tables) <= tables
    assert count == 303
