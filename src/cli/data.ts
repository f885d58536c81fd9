/**
 * `deno task data [--mnist DIR] [--fashion-mnist DIR] [--cifar10 PATH] [--tfd FILE]
 *                 [--download-mnist]`
 * Prints each data set's status: present (with its SHA-256), missing (with how to get it)
 * or corrupt (with what is wrong). Exit 1 when any is corrupt; missing TFD is expected.
 */
import { DATASETS, datasetStatus, type DataSources } from "../data/registry.ts";
import { DataError } from "../data/errors.ts";
import { parseCommand, runMain } from "./args.ts";

const USAGE = `usage: deno task data [--mnist DIR] [--fashion-mnist DIR] [--cifar10 PATH]
                      [--tfd FILE] [--download-mnist]

Prints each data set's status: present (with its SHA-256), missing (with how to get it)
or corrupt (with what is wrong).
  --download-mnist   fetch the four official MNIST files (SHA-256 verified) into the
                     cache (~/.cache/ganbench/mnist) and check them; needs --allow-net
  --mnist DIR, --fashion-mnist DIR, --cifar10 PATH, --tfd FILE
                     look for a data set there instead of its default place
  -h, --help         show this help
  --version          print ganbench's version

exit codes:
  0  every data set is present or missing (missing TFD is expected: it is not public)
  1  a data set is corrupt, or a download failed its checksum
  2  a bad flag or argument`;

const OPTIONS = {
  mnist: { type: "string" },
  "fashion-mnist": { type: "string" },
  cifar10: { type: "string" },
  tfd: { type: "string" },
  "download-mnist": { type: "boolean", default: false },
} as const;

export async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({ name: "data", usage: USAGE, options: OPTIONS }, args);
  if (!parsed) return 0;
  const { values } = parsed;
  const sources: DataSources = {
    mnist: values.mnist,
    fashionMnist: values["fashion-mnist"],
    cifar10: values.cifar10,
    tfd: values.tfd,
  };
  if (values["download-mnist"]) {
    const { fetchMnist } = await import("../data/download.ts");
    try {
      sources.mnist = await fetchMnist();
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      console.error(`error: ${e.message.replaceAll("\n", " ")}`);
      return 1;
    }
  }
  let corrupt = 0;
  for (const name of DATASETS) {
    const t0 = performance.now();
    const s = datasetStatus(name, sources);
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    if (s.state === "corrupt") corrupt++;
    const head = `${name.padEnd(14)} ${s.state.padEnd(8)}`;
    if (s.state === "present") {
      console.log(`${head} sha256 ${s.sha256} (${took} s)\n${" ".repeat(24)}${s.detail}`);
    } else console.log(`${head} ${s.detail.replaceAll("\n", `\n${" ".repeat(24)}`)}`);
  }
  return corrupt ? 1 : 0;
}

if (import.meta.main) await runMain("data", () => main(Deno.args));
