/**
 * One of the processes of test/shared_files_test.ts: `deno run … shared_files_child.ts OUT
 * TAG N SYNC` (once SYNC/go exists, so that both run at once) adds N runs to OUT (a skipped run folder each), and after each one rewrites OUT's
 * index and suite.json, as a bench that ends does. Once its index is written, every later
 * index must show the run too (another process's index scanned earlier must not replace it):
 * a run found missing is reported and the process exits 1.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeIndexPage } from "../src/report/build.ts";
import { SUITE_FORMAT, writeSummary } from "../src/cli/summary.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";

const [out, tag, count, sync] = Deno.args;
Deno.writeTextFileSync(join(sync, `ready-${tag}`), "");
while (!existsSync(join(sync, "go"))) await new Promise((r) => setTimeout(r, 5));
const lost: string[] = [];
for (let i = 1; i <= Number(count); i++) {
  const key = `exp-${tag}/seed-${i}`;
  // atomically, as bench writes it: the other process may be scanning the folder
  await writeFileAtomic(join(out, key, "skipped.json"), JSON.stringify({ reason: `r-${key}` }));
  await writeIndexPage(out);
  if (!Deno.readTextFileSync(join(out, "index.html")).includes(`r-${key}`)) lost.push(key);
  await writeSummary(out, {
    format: SUITE_FORMAT,
    profile: "smoke",
    seeds: [i],
    jobs: 1,
    check: false,
    startedAt: new Date().toISOString(),
    wallSeconds: 0,
    runs: [{
      key,
      experiment: `exp-${tag}`,
      seed: i,
      profile: "smoke",
      dir: join(out, key),
      status: "skipped",
      reason: `r-${key}`,
    }],
    missed: [],
  });
}
if (lost.length) {
  console.error(`the index lost ${lost.join(", ")}`);
  Deno.exit(1);
}
