import assert from "node:assert/strict";
import { committedWasmFile, WASM_MODULES, wasmFileText } from "../scripts/build-wasm.ts";

Deno.test("each generated wasm file is the assembly of its .wat (deno task wasm)", async () => {
  for (const m of WASM_MODULES) {
    assert.equal(await committedWasmFile(m), await wasmFileText(m), `src/${m.target}`);
  }
});
