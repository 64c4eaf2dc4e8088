"""What every adapter (api/, web/, realtime/) shares and none owns: sign-in cookies and CSRF.

Failure limits are not here: they are not HTTP (the runtime holds them), see lifeline/limits.py."""
