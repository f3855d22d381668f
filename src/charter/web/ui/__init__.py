"""What every page shares: templates and `render`, languages, cookies, form tokens, headers, error pages."""

from charter.web.ui.csrf import CsrfRejected, verify_csrf
from charter.web.ui.errors import SignInRequired, error_page, register_area
from charter.web.ui.i18n import N_
from charter.web.ui.nav import NavItem, visible
from charter.web.ui.templates import page_context, page_lang, render

__all__ = ["N_", "CsrfRejected", "NavItem", "SignInRequired", "error_page", "page_context", "page_lang",
           "register_area", "render", "verify_csrf", "visible"]
