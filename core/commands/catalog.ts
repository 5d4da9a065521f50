/**
 * The commands of `flash`: names and one-line descriptions, kept apart from the command modules so that
 * `flash --help` can print them without loading any command (each one pulls in a part of the engine).
 */
import { closest } from "../base/did-you-mean";

/** Each visible command and its one-line description. */
export const COMMANDS = {
  run: "Serve every example in one app with OpenAPI docs at /docs",
  init: "Create an example (NN_category/NN_example) or a new workspace from the templates",
  deps: "Check and consolidate the examples' dependencies (Bun workspaces, bun.lock)",
  test: "Run the workspace's tests (or one example's) with the embedded bun",
  emulator: "Run a local Runpod emulator (job API, GraphQL, workers) for offline tries",
  build: "Build the deploy artifact (.flash/artifact.tar.gz) and manifest of the workspace or one example",
  deploy: "Build, plan and deploy the workspace to a Flash app environment on Runpod (or an emulator)",
  undeploy: "Delete deployed endpoints of an environment (one resource, or --all)",
  env: "List, create, show and delete the environments of a Flash app",
  app: "List, create, show and delete Flash apps",
  logs: "Show the worker logs of a deployed endpoint (--follow to stream them)",
  login: "Sign in with your browser and save the API key to ~/.runpod/config.toml (as Runpod's tools do)",
  completion: 'Print shell completion for bash, zsh or fish (eval "$(flash completion bash)")',
  upgrade: "Replace this binary with the latest release's, verified against its SHA256SUMS",
  doctor: "Check a platform for real: doctor runpod smoke-tests Runpod with your key (~15 min, a few cents)",
} as const;

/** Hidden commands (run by flash itself) and the spellings of help and version the top level accepts. */
const HIDDEN = ["__worker", "__runpod-worker"];

/**
 * What `flash <word>` with an unknown word prints (exit 2): the nearest command, else the list. Undefined when the
 * word is a command.
 */
export function unknownCommand(word: string): string | undefined {
  const names = Object.keys(COMMANDS);
  if (names.includes(word) || HIDDEN.includes(word)) return undefined;
  const guess = closest(word, names);
  return `flash: unknown command "${word}".${guess ? ` Did you mean "flash ${guess}"?` : ""} Commands: ${names.join(", ")} (flash --help).\n`;
}

/** A visible command's name. */
type CommandName = keyof typeof COMMANDS;

/** The top-level usage text, as citty would print it. */
export function mainUsage(description: string, version: string): string {
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map((n) => n.length));
  const rows = names.map((n) => `  ${n.padStart(width + 4)}    ${COMMANDS[n]}`).join("\n");
  return `${description} (flash v${version})\n\nUSAGE flash ${names.join("|")}\n\nCOMMANDS\n\n${rows}\n\nUse flash <command> --help for more information about a command.\n`;
}
