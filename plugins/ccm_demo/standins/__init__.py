"""Local stand-ins for the demo company's APIs, served on loopback.

They implement the real paths, response shapes, pagination, rate-limit headers and
errors, answer as of the demo's simulated clock, and take fault-injection switches on a
private admin path that extract code never calls.

A stand-in module defines `start(demo_dir, clock_file, port=0)` returning a running
stand-in with `name`, `url`, `stop()` and `connection_env()` (the AIRFLOW_CONN_*
variables that point the pipeline at it). It may also define
`advance_to(demo_dir, moment, env)`, called whenever the simulated clock moves, for
state that cannot be computed per request (e.g. AWS resources seeded into moto through
boto3, CloudTrail files delivered into S3); a module with only `advance_to` (the inbox)
runs no server. Modules are discovered.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def standin_modules() -> list[ModuleType]:
    import ccm_demo.standins as package

    modules = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "start") or hasattr(module, "advance_to"):
            modules.append(module)
    return modules
