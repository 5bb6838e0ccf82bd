"""Where a webhook may point (SSRF, OWASP API7): http(s) only, no credentials in the URL, and —
outside development — no address of our own network: loopback, private (RFC 1918, fc00::/7),
link-local (169.254.0.0/16: cloud metadata), carrier-grade NAT, multicast, unspecified. The
name is resolved when the subscription is made and again before every send (a name that
resolved to a public address yesterday may not today)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from libs.common.bilingual import Text


class TargetRefused(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} | {en}")
        self.zh, self.en = zh, en

    @property
    def text(self) -> Text:
        return Text(self.zh, self.en)


def check_syntax(url: str) -> tuple[str, int]:
    """(host, port) of an acceptable URL, or TargetRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("仅支持 http 或 https 地址", "only http and https URLs are accepted")
    if parts.username or parts.password:
        raise TargetRefused("地址中不能包含用户名或密码", "the URL must not carry a user name or password")
    host = parts.hostname
    if not host:
        raise TargetRefused("地址缺少主机名", "the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("端口无效", "invalid port") from exc
    return host, port


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def check(url: str, *, private_allowed: bool) -> None:
    host, port = check_syntax(url)
    if private_allowed:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused("无法解析主机名", f"the host {host} does not resolve") from exc
    for info in infos:
        if is_internal(str(info[4][0])):
            raise TargetRefused(
                "不能推送到内网、回环或链路本地地址", f"{host} resolves to a private or internal address"
            )
