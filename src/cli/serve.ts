/**
 * `deno task serve [DIR] [--port N] [--host H]`: serves an output folder (default reports)
 * read-only over HTTP, for browsing reports from another machine or a container. The pages
 * also open straight from disk.
 */
import { parseCommand, runMain, UsageError } from "./args.ts";
import { serveReports } from "../report/serve.ts";
import { EXIT } from "./exit.ts";

const USAGE = `usage: deno task serve [DIR] [--port N] [--host H]

Serves DIR (default reports) read-only: GET and HEAD only, nothing outside DIR.
  --port N   port (default 8000; 0 picks a free one)
  --host H   address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  -h, --help  show this help
  --version   print ganbench's version

exit codes:
  (none while serving: Ctrl-C stops it)
  0  --help or --version
  1  it cannot listen (the port is in use, or the address is not this machine's)
  2  a bad flag or argument, or DIR is not a folder`;

const OPTIONS = {
  port: { type: "string", default: "8000" },
  host: { type: "string", default: "127.0.0.1" },
} as const;

/** The exit code, or null while it serves. */
export function main(args: string[]): number | null {
  const parsed = parseCommand(
    { name: "serve", usage: USAGE, options: OPTIONS, positionals: { max: 1, what: "folder" } },
    args,
  );
  if (!parsed) return 0;
  const { port: portText, host } = parsed.values;
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`--port: found "${portText}"; expected 0…65535`);
  }
  const dir = parsed.positionals[0] ?? "reports";
  try {
    if (!Deno.statSync(dir).isDirectory) throw new Error();
  } catch {
    console.error(`error: ${dir} is not a folder (run deno task bench first, or give one)`);
    return EXIT.io;
  }
  try {
    serveReports(dir, {
      hostname: host,
      port,
      onListen: ({ hostname, port }) =>
        console.log(`serving ${dir} read-only at http://${hostname}:${port}/ (Ctrl-C stops)`),
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      console.error(
        `error: port ${port} on ${host} is in use; pick another with --port N (0: any free one)`,
      );
      return 1;
    }
    if (e instanceof Deno.errors.AddrNotAvailable || e instanceof Deno.errors.PermissionDenied) {
      console.error(`error: cannot listen on ${host}:${port} (${(e as Error).message})`);
      return 1;
    }
    throw e;
  }
  return null;
}

if (import.meta.main) await runMain("serve", () => main(Deno.args));
