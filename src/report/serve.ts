/**
 * A read-only static file server for an output folder. Only GET and HEAD; a request path is
 * decoded segment by segment and refused if a segment is empty after decoding, "." or "..",
 * or holds a slash, backslash or NUL; the file's real path (symlinks resolved) must lie
 * inside the folder's real path. A folder serves its index.html or report.html.
 * Bounded: a URL over MAX_URL_LENGTH or a segment over MAX_SEGMENT_LENGTH gets 414; only
 * regular files are opened (a FIFO would block a reader forever); a client that stops
 * reading for IDLE_MS loses its response; an error is logged in one short line.
 */
import { extname, join, sep } from "node:path";

export const MAX_URL_LENGTH = 4096;
/** Longer than any file name the file system allows. */
export const MAX_SEGMENT_LENGTH = 255;
/** How long a response waits for its client to read on. */
export const IDLE_MS = 30_000;
const CHUNK_BYTES = 65_536;

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

export function reportHandler(
  root: string,
  { idleMs = IDLE_MS }: { idleMs?: number } = {},
): (req: Request) => Promise<Response> {
  const realRoot = Deno.realPathSync(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(405, "method not allowed: this server is read-only", { allow: "GET, HEAD" });
    }
    if (req.url.length > MAX_URL_LENGTH) return plain(414, "URI too long");
    const segments = safeSegments(new URL(req.url).pathname);
    if (!segments) return plain(400, "bad path");
    if (segments.some((s) => new TextEncoder().encode(s).length > MAX_SEGMENT_LENGTH)) {
      return plain(414, "URI too long: a path segment is longer than any file name");
    }
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
      const info = await Deno.stat(path);
      if (!info.isFile) return plain(403, "forbidden: not a regular file");
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
      return new Response(idleBounded(file, idleMs), { headers });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return plain(404, "not found");
      }
      if (e instanceof Deno.errors.PermissionDenied) return plain(403, "forbidden");
      console.error(`serve: ${oneLine(e)}`);
      return plain(500, "internal error");
    }
  };
}

/** The file's bytes as a stream that closes the file once its reader is idle for `idleMs`. */
function idleBounded(file: Deno.FsFile, idleMs: number): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const close = () => {
    clearTimeout(timer);
    if (!closed) file.close();
    closed = true;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      clearTimeout(timer);
      const buffer = new Uint8Array(CHUNK_BYTES);
      const n = await file.read(buffer);
      if (n === null) {
        close();
        controller.close();
        return;
      }
      controller.enqueue(buffer.subarray(0, n));
      timer = setTimeout(() => {
        close();
        controller.error(new Error("client idle"));
      }, idleMs);
    },
    cancel: close,
  }, { highWaterMark: 0 });
}

/** An error as one log line of bounded length (no stack, no request path repeated). */
function oneLine(e: unknown): string {
  const text = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).replace(/\s+/g, " ");
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export function serveReports(
  root: string,
  options: {
    hostname?: string;
    port?: number;
    signal?: AbortSignal;
    onListen?: (addr: Deno.NetAddr) => void;
    /** How long a response waits for an idle client (default IDLE_MS). */
    idleMs?: number;
  },
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8000,
    signal: options.signal,
    onListen: options.onListen ?? (() => {}),
    onError: (e) => {
      console.error(`serve: ${oneLine(e)}`);
      return plain(500, "internal error");
    },
  }, reportHandler(root, { idleMs: options.idleMs }));
}
