import { defineCommand } from "citty";
import { log } from "../base/log";
import { COMMANDS } from "./catalog";

/** A command as completion sees it: its flags and its subcommands (each with its own flags). */
interface CompletionNode {
  name: string;
  description: string;
  flags: string[];
  subs: CompletionNode[];
}

type CittyLike = {
  meta?: { description?: string };
  args?: Record<string, { type?: string; alias?: string | string[] }>;
  subCommands?: Record<string, unknown>;
};

function flagsOf(cmd: CittyLike): string[] {
  const flags: string[] = [];
  for (const [name, def] of Object.entries(cmd.args ?? {})) {
    if (def.type === "positional") continue;
    flags.push(`--${name}`);
    if (def.type === "boolean" && (name === "open" || name === "install")) flags.push(`--no-${name}`);
  }
  return [...flags, "--help"];
}

async function nodeOf(name: string, cmd: CittyLike): Promise<CompletionNode> {
  const subs: CompletionNode[] = [];
  for (const [sub, value] of Object.entries(cmd.subCommands ?? {})) {
    const resolved = (typeof value === "function" ? await (value as () => Promise<unknown>)() : value) as CittyLike;
    subs.push(await nodeOf(sub, resolved));
  }
  return { name, description: cmd.meta?.description ?? "", flags: flagsOf(cmd), subs };
}

/** Each visible command's module, spelled out so the compiled binary bundles them (and tsc checks none is missing). */
const MODULES: Record<keyof typeof COMMANDS, () => Promise<{ default: unknown }>> = {
  run: () => import("./run"),
  init: () => import("./init"),
  deps: () => import("./deps"),
  test: () => import("./test"),
  emulator: () => import("./emulator"),
  build: () => import("./build"),
  deploy: () => import("./deploy"),
  undeploy: () => import("./undeploy"),
  env: () => import("./env"),
  app: () => import("./app"),
  logs: () => import("./logs"),
  login: () => import("./login"),
  completion: () => import("./completion"),
  upgrade: () => import("./upgrade"),
  doctor: () => import("./doctor"),
};

/** Every visible command with its flags and subcommands, read from the command modules themselves. */
async function commandTree(): Promise<CompletionNode[]> {
  const nodes: CompletionNode[] = [];
  for (const [name, load] of Object.entries(MODULES))
    nodes.push(await nodeOf(name, (await load()).default as CittyLike));
  return nodes;
}

/** bash (and zsh through bashcompinit): commands, subcommands and flags; folders and files otherwise. */
function bashScript(tree: CompletionNode[]): string {
  const cases = tree.map((c) => {
    const flags = c.flags.join(" ");
    if (!c.subs.length) return `    ${c.name}) words="${flags}" ;;`;
    const subCases = c.subs.map((s) => `        ${s.name}) words="${s.flags.join(" ")}" ;;`).join("\n");
    return `    ${c.name})\n      if [ "$COMP_CWORD" -eq 2 ]; then words="${c.subs.map((s) => s.name).join(" ")} ${flags}"; else\n      case "\${COMP_WORDS[2]}" in\n${subCases}\n      esac; fi ;;`;
  });
  return `# flash completion for bash (eval "$(flash completion bash)", or save it to a completions folder)
_flash() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${tree.map((c) => c.name).join(" ")} help --help --version"
  else
    case "\${COMP_WORDS[1]}" in
${cases.join("\n")}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _flash flash
`;
}

function zshScript(tree: CompletionNode[]): string {
  return `# flash completion for zsh (eval "$(flash completion zsh)" in ~/.zshrc): the bash completion through bashcompinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(tree)}`;
}

function fishScript(tree: CompletionNode[]): string {
  const quote = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const lines = ["# flash completion for fish (flash completion fish > ~/.config/fish/completions/flash.fish)"];
  lines.push("complete -c flash -f");
  for (const c of tree) {
    lines.push(`complete -c flash -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`);
    for (const s of c.subs) {
      lines.push(
        `complete -c flash -n "__fish_seen_subcommand_from ${c.name}" -a ${s.name} -d ${quote(s.description)}`,
      );
    }
    const flags = [...new Set([...c.flags, ...c.subs.flatMap((s) => s.flags)])];
    for (const f of flags) lines.push(`complete -c flash -n "__fish_seen_subcommand_from ${c.name}" -l ${f.slice(2)}`);
  }
  return `${lines.join("\n")}\n`;
}

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** `flash completion bash|zsh|fish`: print the shell's completion script for flash's commands, subcommands and flags. */
export default defineCommand({
  meta: { name: "completion", description: COMMANDS.completion },
  args: { shell: { type: "positional", required: true, description: "bash, zsh or fish" } },
  async run({ args }) {
    const render = SHELLS[args.shell as keyof typeof SHELLS];
    if (!render) {
      log.error(`Unknown shell "${args.shell}": use bash, zsh or fish`);
      process.exit(2);
    }
    process.stdout.write(render(await commandTree()));
  },
});
