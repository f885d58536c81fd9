/** bench's notes on stability bands a config left behind by extending another. */
import assert from "node:assert/strict";
import { bandNotes } from "../src/cli/band-notes.ts";
import { loadConfig } from "../src/config/load.ts";

const notesFor = (name: string, profile: string, overrides?: string[]) =>
  bandNotes([{ resolved: loadConfig(name, { profile, overrides }) }]);

Deno.test("a config that extends another is reminded to declare bands only where it has none", () => {
  // grid-pacgan2 extends grid-gan, leaves its 5 bands behind, and declares its own for smoke
  assert.deepEqual(notesFor("grid-pacgan2", "smoke"), []);
  assert.deepEqual(notesFor("grid-pacgan2", "stability"), [
    "note: grid-pacgan2 extends grid-gan: 5 stability bands not inherited (only bands marked " +
    '"variants": true are); declare its own in "expect"',
  ]);
  // a config that extends nothing gets no note
  assert.deepEqual(notesFor("ring-hinge", "smoke"), []);
});

Deno.test("a --set variant is told its bands were measured for the config as written", () => {
  assert.deepEqual(notesFor("ring-hinge", "smoke", ["training.optimizers.generator.lr=0.002"]), [
    "note: ring-hinge with --set is a variant: its 1 stability band was measured for the config " +
    "as written, so a miss may be the change's doing",
  ]);
});
