# {{title}}

## Overview

One GPU worker and one CPU worker, each a remote function behind a validated HTTP route. Created with
`flash init`: replace this text with what your example does, in two or three sentences, and what it is not.

## What you'll learn

- How to describe an endpoint (`LiveServerless` for a GPU, `CpuLiveServerless` for a CPU) and turn a plain `async`
  function into one that runs on its workers with `remote(config, fn)`.
- How a route validates its body (`t.Object`: a bad body is a 422 naming the field) and declares its reply
  (`response:`), so `/docs` shows both.
- How to test the routes and the remote functions ({{test_file}}).

## Prerequisites

- Bun 1.4.5 or the `flash` binary. No GPU and no Runpod account: locally, remote functions run in a worker pool on
  your machine (GPU configs on its CPU when it has no GPU).
- A Runpod API key only for `--target runpod`.

## Architecture

```
client ──POST /{{example_path}}/gpu/hello──▶ flash (gpu_router) ──await gpuHello()──▶ endpoint {{resource_gpu}}
client ──POST /{{example_path}}/cpu/hello──▶ flash (cpu_router) ──await cpuHello()──▶ endpoint {{resource_cpu}}
```

```
{{tree}}
```

| Route | Remote function | Resource |
| --- | --- | --- |
| `POST /{{example_path}}/gpu/hello` | `gpuHello` | `{{resource_gpu}}` (`LiveServerless`, any GPU, 0–3 workers) |
| `POST /{{example_path}}/cpu/hello` | `cpuHello` | `{{resource_cpu}}` (`CpuLiveServerless`, cpu3c-2-4, 0–3 workers) |

**Import time.** Workers import the module that defines a remote function, and they are shipped its bundled code,
never the files beside it. So in such a module: no file reads at import time (put small data in a `.ts` module,
or read the file inside a route handler), and no heavy work at import time (load models lazily on the first call,
behind a module-level promise).

## Quick start

```bash
# from the workspace root
flash deps                      # links this example as a workspace package
flash run --watch               # serves every example at http://localhost:8888 (docs at /docs)
flash test {{example_path}}     # this example's tests
```

## Endpoints

### `POST /{{example_path}}/gpu/hello`

| field | type | default | notes |
| --- | --- | --- | --- |
| `message` | string | `"Hello from GPU!"` | 1–10,000 characters |

```bash
curl -s -X POST http://localhost:8888/{{example_path}}/gpu/hello \
  -H 'content-type: application/json' -d '{"message": "Hello GPU!"}'
```

```json
{ "status": "success", "message": "Hello GPU!", "worker_type": "GPU" }
```

### `POST /{{example_path}}/cpu/hello`

| field | type | default | notes |
| --- | --- | --- | --- |
| `name` | string | `"Flash expert"` | 1–200 characters |

```bash
curl -s -X POST http://localhost:8888/{{example_path}}/cpu/hello \
  -H 'content-type: application/json' -d '{"name": "Flash User"}'
```

```json
{ "status": "success", "message": "Hello, Flash User!", "worker_type": "CPU" }
```

Errors:

| status | when | body |
| --- | --- | --- |
| 422 | a field is missing, of the wrong type or out of range | `{"error":"validation","message":"body.name: …","detail":[{"loc":["body","name"],…}]}` |
| 400 | the body is not JSON; an `InputError` thrown by the remote function | `{"error":"bad_request","message":"…"}` |
| 500 | the remote function failed | `{"error":"internal_error","message":"Processing failed; …","request_id":"…"}` (the detail is in the server log under that id) |

## Deployment

- `flash run --target emulator` runs the remote functions on a local Runpod emulator: each call ships the
  function's bundled module to an emulated worker, which installs its `dependencies` first. Try it before Runpod.
- `flash run --target runpod` (with `RUNPOD_API_KEY` in `.env`) creates `live-{{resource_gpu}}-fb` and
  `live-{{resource_cpu}}-fb` on the first call and removes them on Ctrl+C. It uses public images with flash's bootstrap (`oven/bun` for CPU
  configs, `runpod/pytorch` with CUDA 12.8 for GPU configs): nothing to build or push.
- `flash deploy` (run in this folder) builds the example (`flash build`), creates one endpoint per config plus the
  load balancer that `mothership.ts` declares (`{{mothership_name}}`, serving these routes; without the file, a
  default `<app>-mothership`), and prints the App URL. `flash deploy --dry-run` prints the plan only; `flash undeploy
  --all` removes what it created. Pointed at `flash emulator` (`RUNPOD_API_BASE_URL` and friends) it runs offline.

## Cost notes

- `workersMin: 0` scales to zero: no cost while idle, a cold start on the first request after `idleTimeout`
  seconds. Raise `workersMin` when latency matters more than cost.
- Use a GPU only for work that needs one; give everything else a CPU config.

## Common issues

- **422 on a valid-looking body**: send `content-type: application/json`.
- **Port 8888 in use**: `flash run --port 0` picks a free port, or set `FLASH_PORT` in `.env`.
- **A remote call fails with ENOENT on `--target emulator`/`runpod` but works locally**: the module reads a file at
  import time (see Import time above).

## References

- Runpod serverless endpoints: https://docs.runpod.io/serverless/overview
- Elysia route schemas: https://elysiajs.com/essential/validation
