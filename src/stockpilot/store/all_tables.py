"""Import every module that adds tables to :data:`stockpilot.store.schema.metadata`.

Alembic and ``init`` import this one module, so a new area's ``schema_<area>.py`` is listed
here once (keep the list sorted).
"""

from stockpilot.store import (  # noqa: F401
    schema,
    schema_api,
    schema_counts,
    schema_events,
    schema_imports,
    schema_network,
    schema_pipeline,
    schema_plan2,
    schema_recommend,
    schema_reports,
    schema_runs,
    schema_service,
    schema_vmi,
    schema_web,
)
