from tests.live import browser, page

__all__ = ["browser", "page"]
