"""Routes of the XML APIs, OAuth and health checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from lifeline.api import backup, command, reporting
from lifeline.api.auth import Authenticator
from lifeline.api.client_script import ClientScriptEndpoint
from lifeline.api.endpoint import Era, XmlApiEndpoint
from lifeline.api.failover import failover_routes
from lifeline.api.health import health_endpoint
from lifeline.api.oauth import token_endpoint
from lifeline.api.reporting.downloads import downloads_endpoint
from lifeline.api.schemas import schema_text
from lifeline.appliance.settings import SettingError, parse_setting
from lifeline.runtime import Runtime


def xml_api_endpoints(runtime: Runtime) -> dict[str, ASGIApp]:
    """The hot paths, served before routing (see `lifeline.app`)."""
    authenticator = Authenticator(runtime)
    endpoints: dict[str, ASGIApp] = {}
    for path, setting, era in (
        ("/api/command.ns", "command_api_ns_namespace", Era.V1_7),
        ("/api/command", "command_api_namespace", Era.LATER),
    ):
        endpoints[path] = XmlApiEndpoint(
            runtime,
            authenticator,
            namespace_setting=setting,
            era=era,
            dispatch=command.dispatch,
            error_wrapper=command.error_wrapper,
        )
    # Unauthenticated; its errors are in the Command API's namespace for the same URL form.
    endpoints["/api/client_script.ns"] = ClientScriptEndpoint(runtime, namespace_setting="command_api_ns_namespace")
    endpoints["/api/client_script"] = ClientScriptEndpoint(runtime, namespace_setting="command_api_namespace")
    for path, setting, era in (
        ("/api/reporting.ns", "reporting_api_ns_namespace", Era.V1_7),
        ("/api/reporting", "reporting_api_namespace", Era.LATER),
    ):
        endpoints[path] = XmlApiEndpoint(
            runtime,
            authenticator,
            namespace_setting=setting,
            era=era,
            dispatch=reporting.dispatch,
            error_wrapper=reporting.error_wrapper,
        )
    # Backup errors are in the command namespaces (the Backup API has no schema of its own).
    for path, setting, era in (
        ("/api/backup.ns", "command_api_ns_namespace", Era.V1_7),
        ("/api/backup", "command_api_namespace", Era.LATER),
    ):
        endpoints[path] = backup.BackupEndpoint(
            runtime,
            authenticator,
            namespace_setting=setting,
            era=era,
            dispatch=backup.dispatch,
            error_wrapper=backup.error_wrapper,
        )
    return endpoints


def schema_endpoint(runtime: Runtime, name: str, setting: str) -> Callable[[Request], Awaitable[Response]]:
    """The XSD with the namespace answers carry; `?namespace=` asks for another one (the .ns one)."""

    async def schema(request: Request) -> Response:
        settings = await runtime.settings()
        namespace = settings[setting]
        wanted = request.query_params.get("namespace")
        if wanted:
            try:
                namespace = parse_setting(setting, wanted)
            except SettingError as error:
                return Response(str(error), status_code=400, media_type="text/plain")
        return Response(schema_text(name, namespace), media_type="text/xml; charset=UTF-8")

    return schema


def api_routes(runtime: Runtime) -> list[BaseRoute]:
    return [
        Route("/api/command.xsd", schema_endpoint(runtime, "command", "command_api_namespace")),
        Route("/api/reporting.xsd", schema_endpoint(runtime, "reporting", "reporting_api_namespace")),
        Route("/session_download", downloads_endpoint(runtime), methods=["GET", "HEAD"]),
        Route("/oauth2/token", token_endpoint(runtime), methods=["POST"]),
        Route("/check_health", health_endpoint(runtime), methods=["GET", "HEAD"]),
        *failover_routes(runtime),
    ]
