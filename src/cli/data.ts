/**
 * `deno task data [--mnist DIR] [--fashion-mnist DIR] [--cifar10 PATH] [--tfd FILE]
 *                 [--download-mnist]`
 * Prints each data set's status: present (with its SHA-256), missing (with how to get it)
 * or corrupt (with what is wrong). Exit 3 when any is corrupt; missing TFD is expected.
 */
import { parseArgs } from "node:util";
import { DATASETS, datasetStatus, type DataSources } from "../data/registry.ts";
import { EXIT, runMain } from "./exit.ts";

const USAGE = `usage: deno task data [--mnist DIR] [--fashion-mnist DIR] [--cifar10 PATH]
                      [--tfd FILE] [--download-mnist]

  --download-mnist   fetch the four official MNIST files (SHA-256 verified) into the
                     cache (~/.cache/ganbench/mnist) and check them; needs --allow-net`;

export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        mnist: { type: "string" },
        "fashion-mnist": { type: "string" },
        cifar10: { type: "string" },
        tfd: { type: "string" },
        "download-mnist": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sources: DataSources = {
    mnist: values.mnist,
    fashionMnist: values["fashion-mnist"],
    cifar10: values.cifar10,
    tfd: values.tfd,
  };
  if (values["download-mnist"]) {
    const { fetchMnist } = await import("../data/download.ts");
    sources.mnist = await fetchMnist();
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
  return corrupt ? EXIT.io : EXIT.ok;
}

if (import.meta.main) await runMain(main);
