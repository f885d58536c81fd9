/** `deno task serve`: files inside the folder, nothing outside it, whatever the request says. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  MAX_SEGMENT_LENGTH,
  MAX_URL_LENGTH,
  safeSegments,
  serveReports,
} from "../src/report/serve.ts";

/** One raw HTTP/1.1 request (fetch would normalise "..", which is what an attacker avoids). */
async function rawGet(
  port: number,
  target: string,
  method = "GET",
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    ),
  );
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (let n; (n = await conn.read(buf)) !== null;) chunks.push(buf.slice(0, n));
  conn.close();
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return {
    status: Number(text.split(" ")[1]),
    body: text.split("\r\n\r\n").slice(1).join("\r\n\r\n"),
  };
}

Deno.test("serve: the folder's files, read-only; no path outside it, however spelled", async () => {
  const base = Deno.makeTempDirSync();
  const root = join(base, "reports"), secretDir = join(base, "secret");
  Deno.mkdirSync(join(root, "exp", "seed-1"), { recursive: true });
  Deno.mkdirSync(secretDir);
  Deno.writeTextFileSync(join(root, "index.html"), "INDEX");
  Deno.writeTextFileSync(join(root, "exp", "seed-1", "report.html"), "RUN PAGE");
  Deno.writeTextFileSync(join(root, "a b.json"), "{}");
  Deno.writeTextFileSync(join(secretDir, "key.txt"), "SECRET");
  Deno.writeTextFileSync(join(base, "sibling.txt"), "SECRET");
  Deno.symlinkSync(join(secretDir, "key.txt"), join(root, "link.txt"));
  Deno.symlinkSync(secretDir, join(root, "linkdir"));
  Deno.symlinkSync(join(root, "index.html"), join(root, "inner-link.html"));

  const controller = new AbortController();
  let port = 0;
  const server = serveReports(root, {
    port: 0,
    signal: controller.signal,
    onListen: (a) => (port = a.port),
  });
  try {
    const ok = async (target: string, body: string) => {
      const r = await rawGet(port, target);
      assert.equal(r.status, 200, target);
      assert.equal(r.body, body, target);
    };
    await ok("/", "INDEX");
    await ok("/index.html", "INDEX");
    await ok("/exp/seed-1/", "RUN PAGE");
    await ok("/exp/seed-1/report.html?x=1", "RUN PAGE");
    await ok("/a%20b.json", "{}");
    await ok("/inner-link.html", "INDEX"); // a link that stays inside is fine
    const attacks = [
      "/../sibling.txt",
      "/../secret/key.txt",
      "/exp/../../sibling.txt",
      "/..%2fsibling.txt",
      "/..%2Fsecret%2Fkey.txt",
      "/%2e%2e/sibling.txt",
      "/%2e%2e%2fsibling.txt",
      "/exp/%2e%2e/%2e%2e/sibling.txt",
      "/..%5csibling.txt",
      "/%2F" + base.slice(1) + "/sibling.txt",
      "//" + base.slice(1) + "/sibling.txt",
      "/" + join(base, "sibling.txt"),
      "/link.txt",
      "/linkdir/key.txt",
      "/index.html%00.png",
      "/%E0%A4%A",
      "http://x/../sibling.txt",
    ];
    for (const target of attacks) {
      const r = await rawGet(port, target);
      assert.ok([400, 404].includes(r.status), `${target}: status ${r.status}`);
      assert.ok(!r.body.includes("SECRET"), `${target} leaked a file outside the folder`);
    }
    const post = await rawGet(port, "/index.html", "POST");
    assert.equal(post.status, 405);
    const del = await rawGet(port, "/index.html", "DELETE");
    assert.equal(del.status, 405);
    assert.equal(Deno.readTextFileSync(join(root, "index.html")), "INDEX");
  } finally {
    controller.abort();
    await server.finished;
    Deno.removeSync(base, { recursive: true });
  }
});

Deno.test("serve: request paths become plain segments or are refused", () => {
  assert.deepEqual(safeSegments("/exp/seed-1/report.html"), ["exp", "seed-1", "report.html"]);
  assert.deepEqual(safeSegments("/a%20b/"), ["a b"]);
  for (const bad of ["/..", "/a/../b", "/%2e%2e/x", "/a%2fb", "/a%5cb", "/a%00", "/%zz", "/./x"]) {
    assert.equal(safeSegments(bad), null, bad);
  }
});

Deno.test("serve: over-long URLs get 414, a FIFO 403 (not a hung request), an idle client loses its response", async () => {
  const root = Deno.makeTempDirSync();
  Deno.writeTextFileSync(join(root, "index.html"), "INDEX");
  const fifo = join(root, "pipe.html");
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  Deno.writeFileSync(join(root, "big.json"), new Uint8Array(8 * 1024 * 1024));
  const controller = new AbortController();
  let port = 0;
  const server = serveReports(root, {
    port: 0,
    signal: controller.signal,
    onListen: (a) => (port = a.port),
    idleMs: 300,
  });
  try {
    const long = await rawGet(port, "/" + "a".repeat(MAX_SEGMENT_LENGTH + 1));
    assert.equal(long.status, 414);
    assert.equal(long.body, "URI too long: a path segment is longer than any file name\n");
    const huge = await rawGet(port, "/" + "a/".repeat(MAX_URL_LENGTH / 2));
    assert.equal(huge.status, 414);
    assert.equal(huge.body, "URI too long\n");
    const pipe = await rawGet(port, "/pipe.html");
    assert.equal(pipe.status, 403);
    assert.equal(pipe.body, "forbidden: not a regular file\n");
    assert.equal((await rawGet(port, "/")).body, "INDEX", "still serving");

    // a client that asks for 8 MB and stops reading: the server gives up on it
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("GET /big.json HTTP/1.1\r\nHost: x\r\n\r\n"));
    await new Promise((r) => setTimeout(r, 1500));
    let received = 0;
    const buffer = new Uint8Array(65536);
    // until the server closes, or the whole file came (keep-alive: it would stay open)
    for (let n; received < 8 * 1024 * 1024;) {
      if ((n = await conn.read(buffer).catch(() => null)) === null) break;
      received += n;
    }
    conn.close();
    assert.ok(received < 8 * 1024 * 1024, `the idle client got ${received} bytes, not all`);
  } finally {
    controller.abort();
    await server.finished;
    Deno.removeSync(root, { recursive: true });
  }
});
