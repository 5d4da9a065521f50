import { Elysia, t } from "flash";
import { dataProblem, invalid } from "../../validation";
import { minimalProcess, processData } from "./endpoint";

/** CPU routes: a function with a statistics library, and one with no dependencies at all. */
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
      return msg ? invalid([{ loc: ["body", "data"], msg, input: body.data }]) : undefined;
    },
    detail: { summary: "Column mean, sample std and sum with simple-statistics (a per-function dependency)" },
  })
  .post("/minimal", ({ body }) => minimalProcess({ text: body.text }), {
    body: t.Object(
      { text: t.String({ maxLength: 100_000, description: "Any text" }) },
      { examples: [{ text: "Hello World 2024" }] },
    ),
    detail: { summary: "Count words, characters, capitals and digits with no dependencies" },
  });
