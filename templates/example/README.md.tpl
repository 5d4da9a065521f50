# {{title}}

One GPU worker and one CPU worker, each a remote function behind a validated HTTP route.
Created with `flash init`; replace this text with what your example teaches.

## What This Demonstrates

- A remote function per worker (`remote(config, fn)`): `gpuHello` on a `LiveServerless` GPU endpoint,
  `cpuHello` on a `CpuLiveServerless` CPU endpoint.
- A router per worker (`gpu_router`, `cpu_router`) with a schema'd `POST /hello` that calls its function;
  a bad body is answered with 422 and the field at fault.
- Tests that call the routers and the remote functions directly ({{test_file}}).

## Prerequisites

- The `flash` binary (or this repository with bun).
- A Runpod API key only to run on Runpod (`--target runpod`); locally, remote functions run in a worker pool.

## Quick Start

```bash
# from the workspace root
flash deps           # links this example as a workspace package (bun install, with flash's own bun)
flash run --watch    # serves every example at http://localhost:8888 (docs at /docs)
flash test {{example_path}}
```

## Architecture

```
{{tree}}
```

Routes are mounted at `/{{example_path}}/{type}`:

| Route | Remote function | Resource |
|---|---|---|
| `POST /{{example_path}}/gpu/hello` | `gpuHello` | `{{resource_gpu}}` (`LiveServerless`, any GPU, 0–3 workers) |
| `POST /{{example_path}}/cpu/hello` | `cpuHello` | `{{resource_cpu}}` (`CpuLiveServerless`, CPU3C_1_2, 0–3 workers) |

`mothership.ts` names the load-balanced endpoint (`{{mothership_name}}`) that would serve these routes when deployed.

## Configuration

| Variable | Default | Meaning |
|---|---|---|
| `FLASH_HOST` | `localhost` | host `flash run` listens on |
| `FLASH_PORT` | `8888` | port `flash run` listens on |
| `RUNPOD_API_KEY` | — | needed only with `--target runpod` |

Copy `.env.example` to `.env` to set them. `idleTimeout` is in seconds; `workersMin: 0` scales to zero.

## Endpoints

```bash
curl -X POST http://localhost:8888/{{example_path}}/gpu/hello \
  -H 'content-type: application/json' -d '{"message": "Hello GPU!"}'
curl -X POST http://localhost:8888/{{example_path}}/cpu/hello \
  -H 'content-type: application/json' -d '{"name": "Flash User"}'
```

## Deployment

`flash run --target runpod` runs the same remote functions on Runpod serverless endpoints named after the
resources above (with a `live-` prefix, removed again on Ctrl+C).

## Troubleshooting

- `Cannot find module "flash"` under a plain `bun`: run `flash test` once; it writes `.flash/runtime/`, which the
  workspace's `tsconfig.json` maps `flash` to.
- A route answers 422: the body failed validation; the response names the field and the reason.

## Next Steps

- Pick a GPU (`GpuGroup.ADA_24`, `GpuGroup.AMPERE_80`) or CPU instance type in the configs.
- Add npm dependencies to this folder's `package.json`, then run `flash deps` at the root.
