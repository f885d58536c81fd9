import type { ResolvedConfig } from "../config/load.ts";

/**
 * Stability bands are measured for one config: the notes `bench` prints where a config has
 * none because they were left out (a config that extends another inherits only bands marked
 * "variants": true) or where they may not fit (a --set variant).
 */
export function bandNotes(tasks: { resolved: ResolvedConfig }[]): string[] {
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const { resolved } of tasks) {
    if (seen.has(resolved.experiment)) continue;
    seen.add(resolved.experiment);
    const n = resolved.bandsNotInherited;
    // a config with bands of its own for this profile needs no reminder to declare them
    if (n > 0 && !resolved.expect.length) {
      notes.push(
        `note: ${resolved.experiment} extends ${
          resolved.parents.map(configName).join(" → ")
        }: ${n} stability ` +
          `band${n > 1 ? "s" : ""} not inherited (only bands marked "variants": true are); ` +
          `declare its own in "expect"`,
      );
    }
    if (resolved.variant && resolved.expect.length) {
      const m = resolved.expect.length;
      notes.push(
        `note: ${resolved.experiment} with --set is a variant: its ${m} stability band${
          m > 1 ? "s were" : " was"
        } measured for the config as written, so a miss may be the change's doing`,
      );
    }
  }
  return notes;
}

/** A parent's name as configs name it ("grid-gan"), from its path. */
function configName(path: string): string {
  return path.replace(/^.*[\\/]/, "").replace(/\.json$/, "");
}
