"""Server-rendered pages (FastAPI + Jinja2)."""
