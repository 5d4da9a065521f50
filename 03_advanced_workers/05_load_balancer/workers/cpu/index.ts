import { Elysia, t } from "flash";
import { cpuHealth, OPERATIONS, transform, validate } from "./endpoint";

const Health = t.Object({ status: t.String(), service: t.String() });
const ValidateReply = t.Object({
  status: t.Literal("success"),
  is_valid: t.Boolean(),
  character_count: t.Integer(),
  word_count: t.Integer(),
  average_word_length: t.Number(),
  process_time_ms: t.Number(),
  timestamp: t.String({ format: "date-time" }),
});
const TransformReply = t.Object({
  status: t.Literal("success"),
  original: t.String(),
  transformed: t.String(),
  operation: t.String(),
  process_time_ms: t.Number(),
  timestamp: t.String({ format: "date-time" }),
});

/** CPU data service: the load-balanced endpoint's routes, callable through the unified app. */
export const cpu_router = new Elysia()
  .get("/health", () => cpuHealth(), { response: { 200: Health }, detail: { summary: "Health of the CPU service" } })
  .post("/validate", ({ body }) => validate(body.text), {
    body: t.Object(
      { text: t.String({ maxLength: 100_000, description: "Text to check (not blank, else 400)" }) },
      { examples: [{ text: "Hello world from load balancer" }] },
    ),
    response: { 200: ValidateReply },
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
    response: { 200: TransformReply },
    detail: { summary: "Uppercase, lowercase, reverse or title-case text (unknown operation → 400)" },
  });
