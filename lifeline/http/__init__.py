"""What every adapter (api/, web/, realtime/) shares and none owns: sign-in cookies and CSRF
(auth.py), the public site and address of a request (site.py), rendering pages (pages.py),
and what plain HTTP may reach (transport.py).

Failure limits are not here: they are not HTTP (the runtime holds the sign-in limits every
door shares), so they are lifeline/limits.py, below runtime.py, and nothing re-exports them."""
