from sqlmodel import Field, SQLModel


class Product(SQLModel, table=True):
    """A sellable SKU at its current catalog price; orders copy name and price at order time."""

    __tablename__ = "product"

    sku: str = Field(primary_key=True)
    name: str
    price_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)
    customizable: bool = False
    # What the goods are for tax (TaxClass); each country's table says what the class costs there.
    tax_class: str = Field(default="STANDARD", max_length=16, sa_column_kwargs={"server_default": "STANDARD"})
