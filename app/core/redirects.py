"""Where a redirect may send a user: only a path of this site.

A browser reads «//evil.example/x» as another host (protocol-relative), drops tabs and newlines from a URL
(«/\t/evil» becomes «//evil») and takes a backslash for a slash («/\\evil»), so any of these disqualifies a
target outright.
"""

from urllib.parse import urlsplit


def local_path(target: str | None) -> str | None:
    """`target` if it is a path of this site (with its query), else None."""
    if not target or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def same_site_path(url: str | None, host: str) -> str | None:
    """The path and query of `url` (e.g. a Referer) when it points at `host` and its path is a local one."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != host:
        return None
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))
