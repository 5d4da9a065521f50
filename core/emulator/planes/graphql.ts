/** The GraphQL control plane (`https://api.runpod.io/graphql`): templates, endpoints, volumes and Flash apps. */
import { Elysia, t } from "elysia";
import type { EmulatorContext } from "./context";

const GraphqlBody = t.Object({
  query: t.String({ minLength: 1 }),
  variables: t.Optional(t.Nullable(t.Record(t.String(), t.Any()))),
  operationName: t.Optional(t.Nullable(t.String())),
});

/** The GraphQL plane. */
export function graphqlPlane({ control }: EmulatorContext) {
  return new Elysia().post(
    "/graphql",
    async ({ body }) => {
      const reply = await control.execute(body.query, body.variables ?? undefined, body.operationName ?? undefined);
      return new Response(JSON.stringify(reply.body), {
        status: reply.status,
        headers: { "content-type": "application/json" },
      });
    },
    { body: GraphqlBody },
  );
}
