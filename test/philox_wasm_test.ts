import assert from "node:assert/strict";
import { philoxWasmFileText } from "../scripts/build-wasm.ts";

Deno.test("src/rng/philox-wasm.ts is the assembly of src/rng/philox.wat (deno task wasm)", async () => {
  const committed = await Deno.readTextFile(new URL("../src/rng/philox-wasm.ts", import.meta.url));
  assert.equal(committed, await philoxWasmFileText());
});
