"""`ccm dashboard`: rebuild the metrics marts and the dashboard from the warehouse."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console()


def dashboard(
    build: Annotated[bool, typer.Option("--build/--no-build",
                                        help="rebuild and export the marts first (--no-build: render from the marts as they are)")] = True,
) -> None:
    """Rebuild the metrics marts (DuckDB + Parquet) and write the HTML dashboard."""
    from ccm.config import Settings
    from ccm.metrics.publish import publish_metrics

    published = publish_metrics(Settings.from_env(), build=build)
    if published.marts:
        console.print("marts: " + ", ".join(f"{name} {rows}" for name, rows in sorted(published.marts.items())))
        console.print(f"exported to:  {published.marts_location} (BI database {published.bi_database})")
    console.print(f"dashboard:    {published.dashboard}")
    console.print(f"status index: {published.index}")
