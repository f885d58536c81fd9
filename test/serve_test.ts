/** `deno task serve`: files inside the folder, nothing outside it, whatever the request says. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { safeSegments, serveReports } from "../src/report/serve.ts";

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
