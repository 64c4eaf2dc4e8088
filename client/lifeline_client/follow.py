"""Following the failover primary: the appliances a client knows, the one to try first at
the head. A welcome names both (the primary first); a backup closes with 4421 and the
primary's origin as reason; a drop before any welcome moves on to the other appliance.
Trust does not change with the address: the same TLS context checks every one."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable

from lifeline_client.errors import ClientError
from lifeline_client.start import Site, parse_site

log = logging.getLogger(__name__)

# Seconds before trying the primary a backup named: short, but spread, so a fleet closed
# together by a backup does not reach the primary in the same instant.
FOLLOW_WAIT = 1.0


def follow_wait() -> float:
    return random.uniform(0.0, FOLLOW_WAIT)


class Appliances:
    def __init__(self, first: Site, known: Iterable[str] = ()) -> None:
        self.sites = [first]
        self._add(known)

    @property
    def current(self) -> Site:
        return self.sites[0]

    @property
    def origins(self) -> list[str]:
        return [site.origin for site in self.sites]

    def learn(self, origins: Iterable[str]) -> bool:
        """A welcome's list (primary first) replaces what was known; whether it changed.
        The site connected stays first: it is the one that welcomed us."""
        before = self.origins
        current = self.current
        self.sites = [current]
        self._add(origins)
        return self.origins != before

    def told(self, reason: str) -> Site:
        """A backup closed with 4421: its reason names the primary; without one (or an
        unreadable one), the next appliance known."""
        primary = self.prefer(reason)
        if primary is None:
            return self.next()
        log.info("%s is the backup now; following the primary %s", self.sites[-1].origin, primary.origin)
        return primary

    def prefer(self, origin: str) -> Site | None:
        """Try `origin` first from now on; None (and nothing changed) when it is not a site."""
        site = _site(origin)
        if site is not None:
            self.sites = [site, *(known for known in self.sites if known != site)]
        return site

    def next(self) -> Site:
        """The current appliance did not answer: the other one (the same when only one is known)."""
        self.sites.append(self.sites.pop(0))
        return self.current

    def _add(self, origins: Iterable[str]) -> None:
        for origin in origins:
            site = _site(origin)
            if site is None:
                log.warning("ignoring an appliance address that is not a site: %s", origin[:200])
            elif site not in self.sites:
                self.sites.append(site)


def _site(origin: str) -> Site | None:
    """An origin as the appliance says it (https://host[:port], nothing else), or None."""
    if not origin.startswith("https://") or "/" in origin[len("https://") :]:
        return None
    try:
        return parse_site(origin)
    except ClientError:
        return None
