import { Elysia, t } from "flash";
import { dataProblem, invalid } from "../../validation";
import { medianWithRange, minimalProcess, processData } from "./endpoint";

const Stats = t.Object({ A: t.Number(), B: t.Number() });
const DataReply = t.Object({
  status: t.String(),
  stats: t.Object({ mean: Stats, std: Stats, sum: Stats }),
  matrix: t.Object({ shape: t.Array(t.Integer()), mean: t.Number() }),
  versions: t.Record(t.String(), t.String()),
  timestamp: t.String({ format: "date-time" }),
});
const MinimalReply = t.Object({
  status: t.String(),
  result: t.Object({
    text_analysis: t.Object({
      word_count: t.Integer(),
      char_count: t.Integer(),
      uppercase_count: t.Integer(),
      has_numbers: t.Boolean(),
    }),
    runtime_version: t.String(),
    timestamp: t.String({ format: "date-time" }),
  }),
  message: t.String(),
});
const RangeReply = t.Object({
  status: t.Literal("success"),
  median: t.Number(),
  declared: t.String({ description: "the spec the function declares" }),
  installed: t.String({ description: "what the worker actually has" }),
  satisfies_range: t.Boolean(),
});

/** CPU routes: a function with a statistics library (pinned and by range), and one with no dependencies at all. */
export const cpu_router = new Elysia()
  .post("/data", ({ body }) => processData({ data: body.data }), {
    body: t.Object(
      { data: t.Array(t.Array(t.Number()), { description: "Rows of two numbers (columns A and B); at least 2 rows" }) },
      {
        examples: [
          {
            data: [
              [1, 2],
              [3, 4],
              [5, 6],
            ],
          },
        ],
      },
    ),
    beforeHandle({ body }) {
      const msg = dataProblem(body.data);
      return msg ? invalid([{ loc: ["body", "data"], msg, input: body.data }]) : undefined; // a 422 Response
    },
    response: { 200: DataReply },
    detail: { summary: "Column mean, sample std and sum with simple-statistics (a per-function dependency)" },
  })
  .post("/range-spec", ({ body }) => medianWithRange({ numbers: body.numbers }), {
    body: t.Object(
      {
        numbers: t.Array(t.Number(), {
          minItems: 1,
          maxItems: 10_000,
          description: "1 to 10,000 numbers",
          error: "numbers must be a list of 1 to 10000 numbers",
        }),
      },
      { examples: [{ numbers: [3, 1, 4, 1, 5] }] },
    ),
    response: { 200: RangeReply },
    detail: { summary: "Median with simple-statistics declared as a range (^7.8.0): shows the version installed" },
  })
  .post("/minimal", ({ body }) => minimalProcess({ text: body.text }), {
    body: t.Object(
      { text: t.String({ maxLength: 100_000, description: "Any text" }) },
      { examples: [{ text: "Hello World 2024" }] },
    ),
    response: { 200: MinimalReply },
    detail: { summary: "Count words, characters, capitals and digits with no dependencies" },
  });
