"""``peelian serve``: run the dashboard and JSON API with uvicorn."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from peelian.cli._common import DbOption, console, handle_errors, settings_for
from peelian.config import Settings

__all__ = ["register", "serve", "server_config"]


def server_config(settings: Settings, store: Any = None) -> Any:
    """The uvicorn configuration ``peelian serve`` runs: the app on ``settings.host:port``
    (on ``store`` if given, else the store of ``settings``).

    A weak secret is refused unless this is loopback development (:meth:`Settings.with_secret`).
    uvicorn's own ``X-Forwarded-For`` handling is off: peelian believes forwarded addresses only
    from ``PEELIAN_TRUSTED_PROXIES`` (:func:`peelian.web.security_events.client_ip`)."""
    import uvicorn

    from peelian.web import create_app

    settings = settings.with_secret()
    return uvicorn.Config(
        create_app(settings, store=store),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
    )


def serve(settings: Settings) -> None:
    """Serve the app until interrupted (used by ``peelian serve`` and ``peelian demo --serve``)."""
    import uvicorn

    uvicorn.Server(server_config(settings)).run()


@handle_errors
def serve_command(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
    db: DbOption = None,
) -> None:
    """Serve the dashboard and the JSON API (OpenAPI at /docs). Log in with a user made by
    `peelian users add` (or the demo login printed by `peelian demo`)."""
    settings = settings_for(db)
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if updates:
        settings = settings.model_copy(update=updates)
    console.print(f"Serving peelian at http://{settings.host}:{settings.port} (Ctrl+C to stop)")
    serve(settings)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
