"""Schemathesis over the whole OpenAPI schema, from the ASGI app, with an admin key.

A few examples per operation (bounded for CI): no 5xx, and every response matches the schema
(status documented, content type, body). Operations are driven one by one inside the test
(schemathesis' lazy ``from_fixture`` loader does not run under pytest 9 here), so the app can
use the per-backend ``engine`` fixture.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 6


def test_api_conforms_to_its_schema(world):
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    headers = world.h("admin")
    failures, n_ops = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        n_ops += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect all operations' failures, then report them
            failures.append(f"{operation.label}: {exc}")
    assert n_ops >= 40
    assert not failures, "\n\n".join(failures)
