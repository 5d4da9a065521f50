"""
The Python peer of `flash run`: a FastAPI unified app that discovers every example the way the Python
original's root `main.py` does (see shared/reference/flash-examples.md §3), served by uvicorn.

Differences from the original, all deliberate so both sides serve the same routes:
- categories are every `NN_*` folder (sorted), not a hard-coded list, as in flash's discovery;
- the prefix is `/{category}/{example}/{type}` (the original uses `/{example}/{type}`; same routing cost);
- an example's `main.py` may export `api_router` (mounted at `/{category}/{example}`), besides the original's
  "context routes" taken from its `app`.

The benchmark copies this file into a generated workspace as `main.py` and runs it the way the original's
`flash run` does: `python -m uvicorn main:app --host H --port P --log-level warning [--reload]`.
"""

import html
import importlib.util
import logging
import sys
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).parent
SKIP_CONTEXT_PATHS = ("/", "/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")
SKIP_WORKER_SEGMENTS = ("/gpu/", "/cpu/", "/workers/")

app = FastAPI(
    title="Runpod Flash Examples - Unified Demo",
    description="All Flash examples automatically discovered and unified in one FastAPI application",
    version="1.0.0",
)


def title(name: str) -> str:
    return name.replace("_", " ").title()


def load_module_from_path(module_name: str, file_path: Path, package: bool = False):
    """Load a file as a module, registered in sys.modules before it runs (as the original does)."""
    kwargs = {"submodule_search_locations": [str(file_path.parent)]} if package else {}
    spec = importlib.util.spec_from_file_location(module_name, file_path, **kwargs)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def router_record(module, worker_type: str, prefix: str, tag: str):
    router = getattr(module, f"{worker_type}_router", None)
    if not isinstance(router, APIRouter):
        return None
    return {"router": router, "prefix": prefix, "tags": [tag], "worker_type": worker_type}


def discover_example_routers(category: str, example_dir: Path) -> list:
    example = example_dir.name
    tag = f"{title(category)} > {title(example)}"
    base = f"/{category}/{example}"
    records = []
    # (a) single-file routers: {type}_worker.py
    for file in sorted(example_dir.glob("*_worker.py")):
        worker_type = file.stem.replace("_worker", "")
        try:
            module = load_module_from_path(f"{category}_{example}_{worker_type}_worker", file)
            record = module and router_record(module, worker_type, f"{base}/{worker_type}", tag)
            if record:
                records.append(record)
        except Exception as e:  # noqa: BLE001 - the original logs and skips any failure
            logger.warning(f"Could not load {file}: {e}")
    # (b) directory routers: workers/{type}/__init__.py
    workers_dir = example_dir / "workers"
    if workers_dir.is_dir():
        if str(example_dir) not in sys.path:
            sys.path.insert(0, str(example_dir))
        for child in sorted(workers_dir.iterdir()):
            init = child / "__init__.py"
            if not child.is_dir() or child.name.startswith("_") or not init.exists():
                continue
            try:
                module = load_module_from_path(f"{category}_{example}_workers_{child.name}", init, package=True)
                record = module and router_record(module, child.name, f"{base}/{child.name}", tag)
                if record:
                    records.append(record)
            except Exception as e:  # noqa: BLE001
                logger.warning(f"Could not load {init}: {e}")
    # (c) the example's own routes from main.py: `api_router`, or the original's context routes of `app`
    main_file = example_dir / "main.py"
    if main_file.exists():
        try:
            module = load_module_from_path(f"{category}_{example}_main_context", main_file)
            router = getattr(module, "api_router", None)
            if not isinstance(router, APIRouter):
                router = APIRouter()
                for route in getattr(getattr(module, "app", None), "router", APIRouter()).routes:
                    path = getattr(route, "path", "")
                    if path in SKIP_CONTEXT_PATHS or any(s in path for s in SKIP_WORKER_SEGMENTS):
                        continue
                    if getattr(route, "endpoint", None) and getattr(route, "name", None):
                        router.routes.append(route)
            if router.routes:
                records.append({"router": router, "prefix": base, "tags": [tag], "worker_type": "api"})
        except Exception as e:  # noqa: BLE001 - the original ignores these (DEBUG)
            logger.debug(f"Could not load {main_file}: {e}")
    return records


def register_all_examples() -> dict:
    examples = {}
    for category_dir in sorted(BASE_DIR.glob("[0-9][0-9]_*")):
        if not category_dir.is_dir():
            continue
        for example_dir in sorted(category_dir.iterdir()):
            if not example_dir.is_dir() or example_dir.name.startswith(".") or not example_dir.name[:2].isdigit():
                continue
            records = discover_example_routers(category_dir.name, example_dir)
            for r in records:
                app.include_router(r["router"], prefix=r["prefix"], tags=r["tags"])
            if records:
                examples[f"{category_dir.name}/{example_dir.name}"] = [r["worker_type"] for r in records]
    return examples


examples_metadata = register_all_examples()


@app.get("/", response_class=HTMLResponse)
async def home():
    items = "".join(
        f"<li>{html.escape(name)}: {', '.join(t.upper() for t in types)}</li>" for name, types in examples_metadata.items()
    )
    return f"<!doctype html><title>Flash Examples</title><h1>Flash Examples</h1><ul>{items}</ul><a href='/docs'>Docs</a>"


@app.get("/health", tags=["Info"])
async def health():
    return {
        "status": "healthy",
        "examples_loaded": {name: True for name in examples_metadata},
        "total_examples": len(examples_metadata),
    }
