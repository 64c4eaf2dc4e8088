"""The Reporting API (/api/reporting and /api/reporting.ns) and the session downloads its reports link to."""

from lifeline.api.reporting.reports import REPORTS, dispatch, error_wrapper

__all__ = ["REPORTS", "dispatch", "error_wrapper"]
