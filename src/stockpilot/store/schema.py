"""The operational SQL schema (SQLAlchemy Core), shared by SQLite and PostgreSQL.

The database guards what the code promises (CONVENTIONS §10): CHECK constraints on stock
and lots, unique event ids, a ``version`` on every stock row. Alembic migrations in
``store/migrations`` create exactly these tables; a test diffs the two.
Other areas (alerts, API keys, jobs, …) add their tables to the same ``metadata`` in their own
``store/schema_<area>.py`` module, each with its own migration.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stockpilot.domain import bounds as b

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# BIGINT ids that are still SQLite's rowid alias (SQLite autoincrements only INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Lengths and ranges come from the one set of bounds (stockpilot.domain.bounds), which the wire
# schema and the import specs use too.
Money = Numeric(b.MONEY_PRECISION, b.MONEY_SCALE)
Id = String(b.ID_LEN)
Tz = DateTime(timezone=True)

skus = Table(
    "skus",
    metadata,
    Column("sku", Id, primary_key=True),
    Column("name", String(b.TEXT_LEN), nullable=False, default=""),
    Column("category", String(b.CATEGORY_LEN)),
    Column("unit_cost", Money),
    Column("price", Money),
    Column("shelf_life_days", Integer),
    Column("lot_tracked", Boolean, nullable=False, default=False),
    Column("attributes", JSON),
    Column("created_at", Tz, nullable=False),
    CheckConstraint("unit_cost IS NULL OR unit_cost >= 0", name="unit_cost_nonneg"),
    CheckConstraint("price IS NULL OR price >= 0", name="price_nonneg"),
    CheckConstraint("shelf_life_days IS NULL OR shelf_life_days > 0", name="shelf_life_pos"),
)

locations = Table(
    "locations",
    metadata,
    Column("location", Id, primary_key=True),
    Column("name", String(b.TEXT_LEN), nullable=False, default=""),
    Column("kind", String(32), nullable=False, default="warehouse"),
    Column("allows_backorders", Boolean, nullable=False, default=False),
    Column("created_at", Tz, nullable=False),
)

suppliers = Table(
    "suppliers",
    metadata,
    Column("supplier", Id, primary_key=True),
    Column("name", String(b.TEXT_LEN), nullable=False, default=""),
    Column("email", String(b.TEXT_LEN)),
    Column("created_at", Tz, nullable=False),
)

supplier_items = Table(
    "supplier_items",
    metadata,
    Column("supplier", Id, ForeignKey("suppliers.supplier"), primary_key=True),
    Column("sku", Id, ForeignKey("skus.sku"), primary_key=True),
    Column("lead_time_days", Integer, nullable=False),
    Column("moq", Integer, nullable=False, default=1),
    Column("pack_size", Integer, nullable=False, default=1),
    Column("order_cost", Money, nullable=False, default=0),
    Column("unit_cost", Money),
    Column("is_primary", Boolean, nullable=False, default=True),
    CheckConstraint("lead_time_days >= 0", name="lead_time_nonneg"),
    CheckConstraint("moq >= 1", name="moq_pos"),
    CheckConstraint("pack_size >= 1", name="pack_pos"),
    CheckConstraint("order_cost >= 0", name="order_cost_nonneg"),
)

# One row per SKU-location: the current balances, guarded by CHECKs, with an optimistic
# version (cosmicpython's Product.version_number). allows_backorders is copied from the
# location so a CHECK can see it.
stock = Table(
    "stock",
    metadata,
    Column("sku", Id, ForeignKey("skus.sku"), primary_key=True),
    Column("location", Id, ForeignKey("locations.location"), primary_key=True),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("reserved", Integer, nullable=False, default=0),
    Column("on_order", Integer, nullable=False, default=0),
    Column("allows_backorders", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", Tz),
    CheckConstraint("reserved >= 0", name="reserved_nonneg"),
    CheckConstraint("on_order >= 0", name="on_order_nonneg"),
    CheckConstraint(
        "allows_backorders OR (on_hand >= 0 AND reserved <= on_hand)", name="no_oversell"
    ),
    Index("ix_stock_location", "location"),
)

lots = Table(
    "lots",
    metadata,
    Column("sku", Id, primary_key=True),
    Column("location", Id, primary_key=True),
    Column("lot_code", String(b.LOT_CODE_LEN), primary_key=True),
    Column("expiry", Date),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("reserved", Integer, nullable=False, default=0),
    ForeignKeyConstraint(["sku", "location"], ["stock.sku", "stock.location"]),
    CheckConstraint("on_hand >= 0", name="on_hand_nonneg"),
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within"),
    Index("ix_lots_expiry", "expiry"),
)

# Append-only: never updated, never deleted. Corrections are new movements.
movements = Table(
    "movements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(b.EVENT_ID_LEN), nullable=False),
    Column("seq", SmallInteger, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("sku", Id, nullable=False),
    Column("location", Id, nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("lot_code", String(b.LOT_CODE_LEN)),
    Column("expiry", Date),
    Column("variance", Integer),
    Column("reference", String(b.TEXT_LEN)),
    Column("occurred_at", Tz, nullable=False),
    Column("recorded_at", Tz, nullable=False),
    UniqueConstraint("event_id", "seq", name="uq_movements_event_seq"),
    Index("ix_movements_sku_location_time", "sku", "location", "occurred_at"),
)

# Idempotency record: one row per applied event, written in the same transaction as its
# movements. A replay with the same fingerprint returns `result`; another body is a conflict.
ledger_events = Table(
    "ledger_events",
    metadata,
    Column("event_id", String(b.EVENT_ID_LEN), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("result", JSON, nullable=False),
    Column("recorded_at", Tz, nullable=False),
)

# Transactional outbox: what happened, for the bus and the alert rules to pick up.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("topic", String(64), nullable=False),
    Column("key", String(160), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", Tz, nullable=False),
    Column("published_at", Tz),
    Index("ix_outbox_unpublished", "published_at", "id"),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("supplier", Id, ForeignKey("suppliers.supplier"), nullable=False),
    Column("status", String(20), nullable=False, default="open"),
    Column("reference", String(128)),
    Column("created_at", Tz, nullable=False),
    Column("expected_at", Date),
    CheckConstraint(
        "status IN ('open', 'partial', 'received', 'cancelled')", name="status_known"
    ),
    UniqueConstraint("reference", name="uq_purchase_orders_reference"),
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("po_id", BigId, ForeignKey("purchase_orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", Id, ForeignKey("skus.sku"), nullable=False),
    Column("location", Id, ForeignKey("locations.location"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("received", Integer, nullable=False, default=0),
    Column("unit_cost", Money),
    CheckConstraint("quantity > 0", name="quantity_pos"),
    CheckConstraint("received >= 0", name="received_nonneg"),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", Id, primary_key=True),
    Column("country", String(b.ID_LEN)),
    Column("first_seen", Tz),
)

# Order lines (historic imports and live sales that name a customer or order): the
# recommender's training data. Quantity is signed: returns are negative. ``line_key`` is
# unique per source: ``invoice:row`` for imports, the event id for live ledger sales.
order_lines = Table(
    "order_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("order_id", String(b.ID_LEN), nullable=False),
    Column("line_key", String(b.LINE_KEY_LEN), nullable=False),
    Column("customer_id", Id),
    Column("sku", Id, ForeignKey("skus.sku"), nullable=False),
    Column("location", Id, ForeignKey("locations.location"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money),
    Column("occurred_at", Tz, nullable=False),
    UniqueConstraint("source", "line_key", name="uq_order_lines_source_line"),
    Index("ix_order_lines_customer", "customer_id"),
    Index("ix_order_lines_sku_time", "sku", "occurred_at"),
)

import_runs = Table(
    "import_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("file", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("started_at", Tz, nullable=False),
    Column("finished_at", Tz, nullable=False),
)
