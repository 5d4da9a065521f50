import { Elysia, t } from "flash";
import { invalid } from "../../validation";
import { InferenceReply } from "../../schemas";
import { gpuInference } from "./endpoint";

/** GPU routes: the inference step on its own. */
export const gpu_router = new Elysia().post(
  "/inference",
  ({ body }) => gpuInference({ cleaned_text: body.cleaned_text, word_count: body.word_count }),
  {
    body: t.Object(
      {
        cleaned_text: t.String({ description: "Text cleaned by /cpu/preprocess (not blank)" }),
        word_count: t.Integer({
          minimum: 0,
          description: "Words in the text (≥ 0)",
          error: "word_count must be a whole number ≥ 0",
        }),
      },
      { examples: [{ cleaned_text: "This product is great, I love it!", word_count: 7 }] },
    ),
    beforeHandle({ body }) {
      if (body.cleaned_text.trim() !== "") return undefined;
      return invalid([
        { loc: ["body", "cleaned_text"], msg: "Cleaned text cannot be empty", input: body.cleaned_text },
      ]); // a 422 Response
    },
    response: { 200: InferenceReply },
    detail: { summary: "Classify sentiment: positive / neutral / negative (GPU)" },
  },
);
