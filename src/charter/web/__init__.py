"""The ASGI application: JSON API under /v1, and (later) the privacy centre and admin console."""
