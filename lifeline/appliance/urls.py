"""The public URLs the appliance hands out (key URLs, direct links, transcripts)."""

from __future__ import annotations


def public_base_url(hostname: str, https_port: int) -> str:
    """`https://host` or `https://host:port`; every URL given to customers is HTTPS."""
    if https_port in (0, 443):
        return f"https://{hostname}"
    return f"https://{hostname}:{https_port}"
