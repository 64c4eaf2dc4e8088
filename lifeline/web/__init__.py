"""Pages: the public site, the representative console, the customer chat client."""

from lifeline.web import ids as _ids  # noqa: F401  (registers the {name:id} path convertor before any route)
