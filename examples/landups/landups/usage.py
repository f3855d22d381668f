"""What a request tells about the browser (LAN-COLLECT-USAGE): pure parsing, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("WeChat", re.compile(r"MicroMessenger/(\d+)")),
    ("Headless Chrome", re.compile(r"HeadlessChrome/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[\d.]* (?:Mobile/\S+ )?Safari/")),
)
_SYSTEMS = (
    ("Windows", re.compile(r"Windows NT")),
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("Linux", re.compile(r"Linux|X11")),
)


@dataclass(frozen=True)
class ClientInfo:
    ip: str
    user_agent: str
    browser: str
    os: str
    device: str
    language: str

    @classmethod
    def from_headers(cls, ip: str, headers: dict[str, str]) -> ClientInfo:
        ua = headers.get("user-agent", "")[:512]
        browser, system, device = parse_user_agent(ua)
        platform = headers.get("sec-ch-ua-platform", "").strip('" ')
        if platform:
            system = platform[:60]
        if headers.get("sec-ch-ua-mobile") == "?1":
            device = "mobile"
        language = headers.get("accept-language", "").split(",")[0].strip()[:64]
        return cls(ip=ip[:45], user_agent=ua, browser=browser, os=system, device=device, language=language)


def parse_user_agent(ua: str) -> tuple[str, str, str]:
    """(browser with major version, operating system, device class) from a User-Agent string."""
    browser = "Other"
    for name, pattern in _BROWSERS:
        match = pattern.search(ua)
        if match:
            browser = f"{name} {match.group(1)}"
            break
    system = next((name for name, pattern in _SYSTEMS if pattern.search(ua)), "Other")
    if re.search(r"bot|crawler|spider", ua, re.IGNORECASE):
        device = "bot"
    elif re.search(r"iPad|Tablet", ua):
        device = "tablet"
    elif re.search(r"Mobi|iPhone|Android", ua):
        device = "mobile"
    else:
        device = "desktop"
    return browser, system, device
