"""Answers that keep the connection usable: internal errors answered without re-raising, and the
``Allow`` header on every 405.

Starlette sends the response of an ``Exception`` handler from its outermost middleware and then
re-raises the exception to the server, which closes the keep-alive connection: the client's next
request on it fails although the server is fine (issue 11, item 10). :class:`RobustMiddleware`
sits inside that middleware, answers the 500 with the app's own ``Exception`` handler (the one
error shape, logged there) and does not re-raise. An error after the response has started cannot
be answered twice, so that one still reaches the server.

A 405 from Starlette names only the methods of the first route matching the path; the ``Allow``
header here lists the methods of every route on the path (RFC 9110, 15.5.6).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RobustMiddleware", "allowed_methods"]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: ASGIApp, scope: Scope) -> list[str]:
    """The methods some route of ``scope``'s path accepts, in a fixed order (each method is
    tried against the app's routes, so included routers and mounts answer for themselves)."""
    routes = list(getattr(app, "routes", []))
    allowed = []
    for method in _METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in routes):
            allowed.append(method)
    return allowed


class RobustMiddleware:
    """Pure ASGI: a 500 in the one error shape without closing the connection; ``Allow`` on 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_checked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] == 405:
                    allow = ", ".join(allowed_methods(scope["app"], scope))
                    headers = [(k, v) for k, v in message.get("headers", []) if k != b"allow"]
                    message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_checked)
        except Exception as exc:
            handler = scope["app"].exception_handlers.get(Exception)
            if started or handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
