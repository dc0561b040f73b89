"""The address a phone in the hall can open: the server's public address when one is set
(`PLANAPP_PUBLIC_URL`, a server behind a proxy), else the address the page was asked at, unless
that is loopback (a projector opened on the laptop itself at localhost): then the laptop's LAN
address, the one `make run` prints (`flask hall-info`). Only when the laptop has no other
address is a loopback address the answer, and the projector says so."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class HallAddress:
    base: str  # scheme://host[:port], no trailing slash
    reachable: bool  # False: only this machine can open it (loopback, no LAN address known)


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, best guess first."""
    found = []
    try:
        # No packet is sent: connecting a UDP socket only picks the outgoing interface.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(info[4][0])
    except OSError:
        pass
    return [a for a in dict.fromkeys(found) if not is_loopback(a)]


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def hall_address(asked_at: str, public_url: str = "", lan=None) -> HallAddress:
    """The base address for phones, from the address a page was asked at (`request.host_url`);
    `lan` lists the machine's LAN addresses (`lan_addresses`, read when needed)."""
    if public_url:
        return HallAddress(public_url.rstrip("/"), True)
    parts = urlsplit(asked_at)
    base = f"{parts.scheme}://{parts.netloc}"
    if not is_loopback(parts.hostname or ""):
        return HallAddress(base, True)
    addresses = (lan or lan_addresses)()
    if not addresses:
        return HallAddress(base, False)
    port = f":{parts.port}" if parts.port else ""
    return HallAddress(f"{parts.scheme}://{addresses[0]}{port}", True)
