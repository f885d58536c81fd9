/** Provenance: what code and runtime produced a result. */
import type { Versions } from "./info.ts";
import { tf } from "./tf.ts";

export async function collectVersions(): Promise<Versions> {
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    tfjs: tf.version.tfjs,
    ganbench: await gitCommit(),
  };
}

async function gitCommit(): Promise<string | null> {
  const root = new URL("../../", import.meta.url).pathname;
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args: ["-C", root, ...args], stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  try {
    const head = await run("rev-parse", "HEAD");
    if (!head) return null;
    const status = await run("status", "--porcelain", "--untracked-files=no");
    return status ? `${head}+dirty` : head;
  } catch {
    return null; // no git binary, or no --allow-run=git
  }
}
