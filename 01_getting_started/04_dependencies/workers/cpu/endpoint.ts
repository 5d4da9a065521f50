import { CpuInstanceType, CpuLiveServerless, logger, remote } from "flash";
import { installedVersion, packageName, versionsOf } from "../../versions";

/** CPU endpoint for the data function: 8 vCPU / 16 GB, with npm packages installed. */
export const dataConfig = new CpuLiveServerless({
  name: "01_04_cpu_data",
  instanceIds: [CpuInstanceType.CPU3C_8_16],
  workersMin: 0,
  workersMax: 3,
});

/** CPU endpoint for the minimal function: the smallest instance, nothing installed. */
export const minimalConfig = new CpuLiveServerless({
  name: "01_04_cpu_minimal",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 3,
});

/** The npm packages the data function is given, pinned. */
export const DATA_DEPENDENCIES = ["simple-statistics@7.12.1"];

// A library only the functions use is imported inside them, on first use: the app server imports this module too
// (for the handles it calls) but never runs the statistics, so it never pays to load them (~14 ms at `flash run`).
const statistics = () => import("simple-statistics");

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Per-column statistics of rows of two numbers (columns A and B): mean, sample standard deviation, sum. */
export async function columnStats(rows: number[][]) {
  const { mean, sampleStandardDeviation, sum } = await statistics();
  const a = rows.map((r) => r[0]!);
  const b = rows.map((r) => r[1]!);
  const cells = rows.flat();
  return {
    stats: {
      mean: { A: round(mean(a)), B: round(mean(b)) },
      std: { A: round(sampleStandardDeviation(a)), B: round(sampleStandardDeviation(b)) }, // ddof=1, like pandas
      sum: { A: round(sum(a)), B: round(sum(b)) },
    },
    matrix: { shape: [rows.length, 2], mean: round(mean(cells)) },
  };
}

/** Compute column statistics with simple-statistics (a per-function dependency). Rows are checked by the route. */
export const processData = remote(
  dataConfig,
  async (input: { data?: number[][] }) => {
    const rows = input.data ?? [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    return {
      status: "success",
      ...(await columnStats(rows)),
      versions: versionsOf(DATA_DEPENDENCIES),
      timestamp: new Date().toISOString(),
    };
  },
  { dependencies: DATA_DEPENDENCIES },
);

/** The same package declared with a semver range: the worker installs the newest 7.x at or above 7.8.0. */
export const RANGE_DEPENDENCY = "simple-statistics@^7.8.0";

/**
 * Median of some numbers, from a function that declares its dependency with a range instead of a pin: the reply
 * shows the declared range and the version the worker actually got, so a range's drift is visible.
 */
export const medianWithRange = remote(
  dataConfig,
  async (input: { numbers: number[] }) => {
    const name = packageName(RANGE_DEPENDENCY);
    const range = RANGE_DEPENDENCY.slice(name.length + 1);
    const installed = installedVersion(name);
    const { median } = await statistics();
    return {
      status: "success" as const,
      median: median(input.numbers),
      declared: RANGE_DEPENDENCY,
      installed: `${name}@${installed}`,
      satisfies_range: Bun.semver.satisfies(installed, range),
    };
  },
  { dependencies: [RANGE_DEPENDENCY] },
);

/** Python's `str.isupper()` for one character: it has case and is the upper-case form. */
function isUpper(ch: string): boolean {
  return ch !== ch.toLowerCase() && ch === ch.toUpperCase();
}

/** Analyse text with nothing but the runtime: no dependencies, the fastest cold start. */
export const minimalProcess = remote(minimalConfig, async (input: { text: string }) => {
  const chars = Array.from(input.text);
  return {
    status: "success",
    result: {
      text_analysis: {
        word_count: input.text.split(/\s+/).filter(Boolean).length,
        char_count: chars.length,
        uppercase_count: chars.filter(isUpper).length,
        has_numbers: /\p{Nd}/u.test(input.text),
      },
      runtime_version: `bun ${Bun.version}`,
      timestamp: new Date().toISOString(),
    },
    message: "No external dependencies needed!",
  };
});

if (import.meta.main) {
  // `bun workers/cpu/endpoint.ts` runs both CPU functions once through their workers.
  // It calls once this module has loaded: a remote function takes its name from the module's exports.
  setTimeout(async () => {
    const log = logger("04_dependencies");
    log.log(
      JSON.stringify(
        await processData({
          data: [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
        }),
        null,
        2,
      ),
    );
    log.log(JSON.stringify(await minimalProcess({ text: "Hello World 2024" }), null, 2));
    process.exit(0);
  }, 0);
}
