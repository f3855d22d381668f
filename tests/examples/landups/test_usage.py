"""What a request tells about the browser (LAN-COLLECT-USAGE)."""

from __future__ import annotations

import pytest

from landups.usage import ClientInfo, parse_user_agent

CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
        "Safari/537.36 Edg/126.0.2592.87")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
WECHAT_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 "
                  "Mobile Safari/537.36 MicroMessenger/8.0.49")


@pytest.mark.parametrize(("ua", "expected"), [
    (CHROME_WIN, ("Chrome 126", "Windows", "desktop")),
    (SAFARI_IPHONE, ("Safari 17", "iOS", "mobile")),
    (EDGE, ("Edge 126", "Windows", "desktop")),
    (FIREFOX_LINUX, ("Firefox 127", "Linux", "desktop")),
    (WECHAT_ANDROID, ("WeChat 8", "Android", "mobile")),
    ("curl/8.5.0", ("Other", "Other", "desktop")),
    ("Googlebot/2.1 (+http://www.google.com/bot.html)", ("Other", "Other", "bot")),
])
def test_parse_user_agent(ua: str, expected: tuple[str, str, str]) -> None:
    assert parse_user_agent(ua) == expected


def test_client_hints_and_language() -> None:
    info = ClientInfo.from_headers("203.0.113.9", {
        "user-agent": CHROME_WIN, "accept-language": "zh-HK,zh;q=0.9,en;q=0.8",
        "sec-ch-ua-platform": '"macOS"', "sec-ch-ua-mobile": "?0"})
    assert (info.ip, info.browser, info.os, info.device, info.language) == (
        "203.0.113.9", "Chrome 126", "macOS", "desktop", "zh-HK")
