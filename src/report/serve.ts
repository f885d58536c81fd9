/**
 * A read-only static file server for an output folder. Only GET and HEAD; a request path is
 * decoded segment by segment and refused if a segment is empty after decoding, "." or "..",
 * or holds a slash, backslash or NUL; the file's real path (symlinks resolved) must lie
 * inside the folder's real path. A folder serves its index.html or report.html.
 */
import { extname, join, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
};

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** The path's segments, or null when any is not a plain name. */
export function safeSegments(pathname: string): string[] | null {
  const segments: string[] = [];
  for (const raw of pathname.split("/")) {
    if (raw === "") continue;
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (s === "." || s === ".." || /[/\\\0]/.test(s)) return null;
    segments.push(s);
  }
  return segments;
}

export function reportHandler(root: string): (req: Request) => Promise<Response> {
  const realRoot = Deno.realPathSync(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(405, "method not allowed: this server is read-only", { allow: "GET, HEAD" });
    }
    const segments = safeSegments(new URL(req.url).pathname);
    if (!segments) return plain(400, "bad path");
    let path: string;
    try {
      path = await Deno.realPath(join(realRoot, ...segments));
      if (!inside(path)) return plain(404, "not found");
      if ((await Deno.stat(path)).isDirectory) {
        const page = ["index.html", "report.html"].map((n) => join(path, n));
        const found = [];
        for (const p of page) {
          const real = await Deno.realPath(p).catch(() => null);
          if (real && inside(real)) found.push(real);
        }
        if (!found.length) return plain(404, "not found");
        path = found[0];
      }
      const file = await Deno.open(path, { read: true });
      const { size } = await file.stat();
      const headers = {
        "content-type": TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
        "content-length": String(size),
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
      };
      if (req.method === "HEAD") {
        file.close();
        return new Response(null, { headers });
      }
      return new Response(file.readable, { headers });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return plain(404, "not found");
      }
      if (e instanceof Deno.errors.PermissionDenied) return plain(403, "forbidden");
      throw e;
    }
  };
}

export function serveReports(
  root: string,
  options: {
    hostname?: string;
    port?: number;
    signal?: AbortSignal;
    onListen?: (addr: Deno.NetAddr) => void;
  },
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8000,
    signal: options.signal,
    onListen: options.onListen ?? (() => {}),
  }, reportHandler(root));
}
