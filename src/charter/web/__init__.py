"""The ASGI application: JSON API under /v1, admin console under /admin, privacy centre under /center."""
