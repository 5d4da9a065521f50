/** The emulator's own routes: what is running (`/`), and the env a worker started by hand needs. */
import { Elysia } from "elysia";
import { type EmulatorContext, endpointOf } from "./context";

/** The emulator-only plane. */
export function admin(ctx: EmulatorContext) {
  const { control, supervisor } = ctx;
  return new Elysia()
    .get("/emulator/endpoints/:ep/worker-env", ({ params }) => {
      const e = endpointOf(ctx, params.ep);
      if (e instanceof Response) return e;
      return { endpointId: e.id, launch: supervisor.launch(e).kind, env: supervisor.attachEnv(e) };
    })
    .get("/", () => ({
      emulator: "runpod",
      endpoints: [...control.endpoints.values()].map((e) => ({
        id: e.id,
        name: e.name,
        type: e.type,
        image: control.templateOf(e)?.imageName ?? null,
        launch: supervisor.launch(e).kind,
        workers: supervisor.counts(e.id),
      })),
    }));
}
