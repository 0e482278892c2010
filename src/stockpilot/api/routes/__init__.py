"""The API's routers, one module per resource; ``ROUTERS`` is what ``create_app`` includes."""
