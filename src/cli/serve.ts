/**
 * `deno task serve [DIR] [--port N] [--host H]`: serves an output folder (default reports)
 * read-only over HTTP, for browsing reports from another machine or a container. The pages
 * also open straight from disk.
 */
import { parseArgs } from "node:util";
import { serveReports } from "../report/serve.ts";
import { EXIT, runMain } from "./exit.ts";

const USAGE = `usage: deno task serve [DIR] [--port N] [--host H]

Serves DIR (default reports) read-only: GET and HEAD only, nothing outside DIR.
  --port N   port (default 8000; 0 picks a free one)
  --host H   address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)`;

function main(args: string[]): number | null {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        port: { type: "string", default: "8000" },
        host: { type: "string", default: "127.0.0.1" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = Number(parsed.values.port);
  if (!/^\d+$/.test(parsed.values.port) || port > 65535) {
    console.error(`error: --port: found "${parsed.values.port}"; expected 0…65535`);
    return 2;
  }
  if (parsed.positionals.length > 1) {
    console.error(`error: one folder at most\n\n${USAGE}`);
    return 2;
  }
  const dir = parsed.positionals[0] ?? "reports";
  try {
    if (!Deno.statSync(dir).isDirectory) throw new Error();
  } catch {
    console.error(`error: ${dir} is not a folder`);
    return EXIT.io;
  }
  serveReports(dir, {
    hostname: parsed.values.host,
    port,
    onListen: ({ hostname, port }) =>
      console.log(`serving ${dir} read-only at http://${hostname}:${port}/ (Ctrl-C stops)`),
  });
  return null;
}

if (import.meta.main) await runMain(main);
