"""Landups: the cloud-services console that Charter's Landups policy (examples/landups/policy.yaml) describes.

A small real web application (FastAPI, Jinja2, SQLAlchemy) that integrates with Charter only the way a customer
would: every Charter call goes through `landups.privacy`.
"""

__version__ = "0.1.0"
