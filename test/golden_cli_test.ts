import assert from "node:assert/strict";

Deno.test("golden --only with a case that does not exist is a usage error naming the cases", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "golden", "--only", "mnist-mlp/wasm,mnist-tutorial/openblas"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 2);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.match(
    stderr,
    /^error: --only: no case "mnist-tutorial\/openblas"; cases: gaussian-moments, /,
  );
  assert.match(stderr, /mnist-tutorial\/openblas-fused, mnist-tutorial\/openblas-autodiff, /);
  assert.ok(stderr.endsWith('\nrun "deno task golden --help" for usage\n'), stderr);
  assert.equal(new TextDecoder().decode(out.stdout), "", "no case ran");
});
