"""The Session Generation API, /api/start_session(.ns): the browser customer client or a
launcher that opens it (docs/api/start_session.md)."""
