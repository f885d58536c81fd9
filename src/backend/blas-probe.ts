/**
 * Whether OpenBLAS's forced kernel family runs on this CPU. A DYNAMIC_ARCH build takes
 * `OPENBLAS_CORETYPE` on trust: a family the CPU lacks the instructions for (e.g.
 * `SkylakeX` on an AVX2-only machine) loads, then kills the process with SIGILL at its
 * first product, without a message. So when the variable is set, one small product runs in
 * a child process first, and a child killed that way becomes a one-line error here.
 * (The CPU's flags in /proc/cpuinfo would say the same, but Deno grants that file only to
 * --allow-all.) Run as a script, this file is that child.
 */
import { fileURLToPath } from "node:url";

export const CORETYPE_ENV = "OPENBLAS_CORETYPE";

/** `OPENBLAS_CORETYPE`, or "" when unset or not readable (no --allow-env for it). */
export function forcedCoreType(): string {
  try {
    return Deno.env.get(CORETYPE_ENV) ?? "";
  } catch {
    return "";
  }
}

/** How the probe child ended. */
export interface ProbeStatus {
  success: boolean;
  code: number;
  signal: Deno.Signal | null;
}

/** One small product on the library at `path`, in a child process (this file as a script). */
export function probeProduct(path: string): ProbeStatus {
  const { success, code, signal } = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--allow-ffi", fileURLToPath(import.meta.url), path],
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return { success, code, signal };
}

/** Why the `forced` family's `core` kernels cannot be used, from the probe's `status` ("" if they can). */
export function unrunnableCoreMessage(forced: string, core: string, status: ProbeStatus): string {
  if (status.success) return "";
  const how = status.signal ? `is stopped by ${status.signal}` : `exits with ${status.code}`;
  const why = status.signal === "SIGILL" ? "an instruction it lacks" : "a crash";
  return `${CORETYPE_ENV}=${forced} makes OpenBLAS use its ${core} kernels, and a product on ` +
    `them ${how} on this CPU (${why}): unset ${CORETYPE_ENV} or name a family this CPU ` +
    "supports (docs/performance.md#openblas-and-this-machines-cpu)";
}

/**
 * Why the library at `path` cannot run its `core` kernels here, or "" when it can, or when
 * nothing forces the family (OpenBLAS's own choice only picks what the CPU has) or no child
 * process may be started.
 */
export function unrunnableCoreReason(path: string, core: string): string {
  const forced = forcedCoreType();
  if (!forced) return "";
  if (Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state !== "granted") {
    return "";
  }
  return unrunnableCoreMessage(forced, core, probeProduct(path));
}

if (import.meta.main) {
  const lib = Deno.dlopen(
    Deno.args[0],
    {
      cblas_sgemm: {
        parameters: [
          ...["i32", "i32", "i32", "i32", "i32", "i32", "f32", "buffer", "i32"],
          ...["buffer", "i32", "f32", "buffer", "i32"],
        ],
        result: "void",
      },
    } as const,
  );
  // large enough that OpenBLAS takes its blocked kernels, not a small-matrix path
  const n = 64;
  const a = new Float32Array(n * n).fill(1);
  const c = new Float32Array(n * n);
  lib.symbols.cblas_sgemm(101, 111, 111, n, n, n, 1, a, n, a, n, 0, c, n);
  if (c[0] !== n) Deno.exit(1);
}
