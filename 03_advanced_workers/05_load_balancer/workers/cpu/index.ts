import { Elysia, t } from "flash";
import { cpuHealth, OPERATIONS, transform, validate } from "./endpoint";

/** CPU data service: the load-balanced endpoint's routes, callable through the unified app. */
export const cpu_router = new Elysia()
  .get("/health", () => cpuHealth(), { detail: { summary: "Health of the CPU service" } })
  .post("/validate", ({ body }) => validate(body.text), {
    body: t.Object(
      { text: t.String({ maxLength: 100_000, description: "Text to check (not blank, else 400)" }) },
      { examples: [{ text: "Hello world from load balancer" }] },
    ),
    detail: { summary: "Validate text and count characters and words (blank text → 400)" },
  })
  .post("/transform", ({ body }) => transform(body.text, body.operation ?? "uppercase"), {
    body: t.Object(
      {
        text: t.String({ maxLength: 100_000, description: "Text to transform (not blank, else 400)" }),
        operation: t.Optional(
          t.String({
            default: "uppercase",
            description: `One of: ${OPERATIONS.join(", ")} (else 400)`,
            examples: [...OPERATIONS],
          }),
        ),
      },
      {
        examples: [
          { text: "hello world", operation: "uppercase" },
          { text: "they're here", operation: "title" },
        ],
      },
    ),
    detail: { summary: "Uppercase, lowercase, reverse or title-case text (unknown operation → 400)" },
  });
