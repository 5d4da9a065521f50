import { defineCommand } from "citty";
import { log } from "../base/log";
import { COMMANDS } from "./catalog";

/** The console Runpod's approval page lives under; a local emulator serves its own. */
const CONSOLE_URL = "https://console.runpod.io";

/** Open `url` in the user's browser; a failure only means the user opens it by hand. */
function openBrowser(url: string): void {
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    Bun.spawn([opener, url], { stdout: "ignore", stderr: "ignore" }).exited.catch(() => {});
  } catch {
    // No opener on PATH: the URL is printed above.
  }
}

/** `flash login`: approve flash in the browser and save the minted key where Runpod's tools keep it. */
export default defineCommand({
  meta: { name: "login", description: COMMANDS.login },
  args: {
    open: { type: "boolean", description: "Open the browser (--no-open to only print the URL)", default: true },
    timeout: { type: "string", description: "How long to wait for the approval (default 600s)" },
  },
  async run({ args }) {
    const { parseDuration } = await import("../base/duration");
    const { runpodUrls } = await import("../runpod/connection");
    const { deviceLogin, LOGIN_DEFAULTS } = await import("../runpod/login");
    const { saveApiKey } = await import("../runpod/credentials");
    let timeoutMs = LOGIN_DEFAULTS.timeoutMs;
    try {
      if (args.timeout) timeoutMs = parseDuration(args.timeout);
    } catch (error) {
      log.error((error as Error).message);
      process.exit(2);
    }
    const urls = runpodUrls();
    const emulator = process.env.FLASH_RUNPOD_URL?.trim();
    try {
      const key = await deviceLogin({
        graphqlUrl: `${urls.apiBaseUrl}/graphql`,
        consoleUrl: emulator || CONSOLE_URL,
        timeoutMs,
        onUrl: (url) => {
          log.log(`Authorize flash in your browser:\n  ${url}\nWaiting for the approval…`);
          if (args.open && process.stdout.isTTY) openBrowser(url);
        },
      });
      const file = saveApiKey(key);
      log.success(`Logged in. Credentials saved to ${file}`);
      process.exit(0);
    } catch (error) {
      log.error(`${(error as Error).message}. Run flash login again, or set RUNPOD_API_KEY.`);
      process.exit(1);
    }
  },
});
