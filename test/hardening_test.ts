/**
 * Nothing lost, nothing trusted blindly: a completed run survives every start that fails
 * (bad or missing data, a generator that does not fit, a second process on its folder); a
 * checkpoint with a flipped bit or a changed loss digit is refused; names cannot leave
 * --out; every such error is one line with its documented exit code (src/cli/exit.ts).
 */
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { errorLine, EXIT, exitCodeOf } from "../src/cli/exit.ts";
import { CONFIG_DIR } from "../src/config/load.ts";
import { DataError } from "../src/data/errors.ts";
import { IDX_MAX_BYTES, mnistNpmDir } from "../src/data/mnist.ts";
import { loadDataset } from "../src/data/registry.ts";
import { gzipSync } from "node:zlib";
import { LOCK_FILE, previousPath, RunFolderBusyError, RunGuard } from "../src/record/run-guard.ts";
import { MNIST_SHORT, runBench } from "./helpers.ts";

const sets = MNIST_SHORT.flatMap((s) => ["--set", s]);

/** Every file below `dir` with its bytes, for "nothing changed" comparisons. */
function snapshot(dir: string, at = ""): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of [...Deno.readDirSync(join(dir, at))].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = join(at, e.name);
    if (e.isDirectory) Object.assign(files, snapshot(dir, rel));
    else {files[rel] =
        btoa(String.fromCharCode(...Deno.readFileSync(join(dir, rel)).subarray(0, 4096))) +
        `:${Deno.statSync(join(dir, rel)).size}`;}
  }
  return files;
}

/** stderr without the progress bar's redraws: its lines that say something. */
const lines = (text: string) => text.split("\n").filter((l) => l.trim() && !l.includes("\r"));

Deno.test("a completed run survives every failed start; a successful rerun keeps it as superseded", async () => {
  const out = Deno.makeTempDirSync();
  // the short --set overrides make this a variant, in its own <experiment>+<hash> folder
  let experimentDir = "";
  let dir = "";
  // stderr without the note that a --set variant's bands were measured for the config as written
  const bench = async (extra: string[] = []) => {
    const r = await runBench(["mnist-mlp", "--backend", "wasm", "--out", out, ...sets, ...extra]);
    return { ...r, stderr: r.stderr.replace(/^note: .* is a variant: .*\n/gm, "") };
  };
  const first = await bench();
  assert.equal(first.code, 0, first.stderr);
  const folders = [...Deno.readDirSync(out)].filter((e) => e.name.startsWith("mnist-mlp"));
  assert.equal(folders.length, 1);
  experimentDir = join(out, folders[0].name);
  dir = join(experimentDir, "seed-1");
  const before = snapshot(dir);
  assert.ok("result.json" in before && "checkpoints/latest.ckpt" in before);
  const unchanged = (what: string) => {
    assert.deepEqual(snapshot(dir), before, `${what}: the completed run is untouched`);
    assert.deepEqual([...Deno.readDirSync(experimentDir)].map((e) => e.name), ["seed-1"]);
  };

  // a truncated MNIST file: exit 3, one line naming the file
  const truncated = Deno.makeTempDirSync();
  for (const e of Deno.readDirSync(mnistNpmDir())) {
    Deno.copyFileSync(join(mnistNpmDir(), e.name), join(truncated, e.name));
  }
  const cut = join(truncated, "train-images-idx3-ubyte");
  Deno.truncateSync(cut, 1000);
  const bad = await bench(["--mnist", truncated]);
  assert.equal(bad.code, EXIT.io, bad.stderr);
  assert.match(
    lines(bad.stderr)[0],
    new RegExp(
      `^error: mnist-mlp seed 1 failed: ${cut}: expected SHA-256 ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db; found [0-9a-f]{64} \\(1000 bytes\\): the file is corrupt or not the published one; delete it and fetch it again$`,
    ),
  );
  assert.doesNotMatch(bad.stderr, /^\s+at /m, "no stack trace");
  unchanged("a truncated data file");

  // a data folder given by flag that is not there: an error (exit 3), not a skip
  const missing = join(truncated, "absent");
  const absent = await bench(["--mnist", missing]);
  assert.equal(absent.code, EXIT.io, absent.stderr);
  assert.equal(
    lines(absent.stderr)[0],
    `error: mnist-mlp seed 1 failed: --mnist ${missing}: expected train-images-idx3-ubyte or ` +
      `train-images-idx3-ubyte.gz; found neither file (${missing}/train-images-idx3-ubyte)`,
  );
  unchanged("a missing --mnist folder");

  // a generator whose output does not fit the data: a config error (exit 2), found from the
  // config alone (src/models/shapes.ts)
  const shapes = await bench(["--set", "generator.layers[2].units=100"]);
  assert.equal(shapes.code, EXIT.usage, shapes.stderr);
  assert.equal(
    lines(shapes.stderr)[0],
    `error: ${join(CONFIG_DIR, "mnist-mlp.json")}: the generator does not fit the data; at ` +
      "$.generator.layers[2]: found an output of 100 values per example; the data have 784: " +
      "the last layer must output as many",
  );
  unchanged("a generator that does not fit");

  // a checkpoint with one flipped bit, or one loss digit changed in its header: refused
  const ckpt = join(dir, "checkpoints", "latest.ckpt");
  const original = Deno.readFileSync(ckpt);
  const headerLength = new DataView(original.buffer).getUint32(0, true);
  const header = new TextDecoder().decode(original.subarray(4, 4 + headerLength));
  const digit = 4 + header.indexOf('"dLoss":[') + '"dLoss":['.length + 2;
  assert.match(String.fromCharCode(original[digit]), /\d/);
  for (
    const [what, at, flip] of [["a weight bit", original.length - 100, 0x01], [
      "a loss digit",
      digit,
      original[digit] === 0x39 ? 0x01 : 0x03,
    ]] as const
  ) {
    const tampered = original.slice();
    tampered[at] ^= flip;
    Deno.writeFileSync(ckpt, tampered);
    const r = await bench(["--resume"]);
    assert.equal(r.code, EXIT.io, `${what}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      `error: --resume: ${ckpt}: not a usable checkpoint (its SHA-256 does not match its ` +
        "contents: the file was altered or damaged)\n",
      what,
    );
    const debug = await runBench(["mnist-mlp", "--out", out, ...sets, "--resume"], {
      GANBENCH_DEBUG: "1",
    });
    assert.match(
      debug.stderr,
      /\n\s+at decodeCheckpoint \(/,
      "GANBENCH_DEBUG=1 shows the stack",
    );
  }
  Deno.writeFileSync(ckpt, original);
  unchanged("a tampered checkpoint");

  // a second process on the folder: refused at once, naming the holder
  const lock = await Deno.open(join(dir, LOCK_FILE), { read: true, write: true, create: true });
  assert.ok(await lock.tryLock(true));
  lock.writeSync(
    new TextEncoder().encode(JSON.stringify({ pid: 4242, hostname: "h", since: "s" })),
  );
  const busy = await bench();
  assert.equal(busy.code, EXIT.io, busy.stderr);
  assert.equal(
    busy.stderr,
    `error: ${dir} is in use by another run (pid 4242 on h, since s); wait for it to end, or ` +
      "use another --out\n",
  );
  lock.close();
  Deno.removeSync(join(dir, LOCK_FILE));
  unchanged("a second process");

  // a rerun that starts: the earlier completed run is kept under a dated name
  const again = await bench();
  assert.equal(again.code, 0, again.stderr);
  const siblings = [...Deno.readDirSync(experimentDir)].map((e) => e.name).sort();
  assert.equal(siblings.length, 2, siblings.join(", "));
  assert.equal(siblings[0], "seed-1");
  assert.match(siblings[1], /^seed-1\.superseded-\d{8}T\d{6}Z$/);
  assert.deepEqual(snapshot(join(experimentDir, siblings[1])), before);
  assert.ok(again.stderr.includes(`the earlier completed run of ${dir} is kept in`), again.stderr);
  assert.ok(!Deno.readDirSync(dir).some((e) => e.name === LOCK_FILE), "the lock goes with the run");
  Deno.removeSync(out, { recursive: true });
  Deno.removeSync(truncated, { recursive: true });
});

Deno.test("RunGuard: a start that fails before its first checkpoint puts the earlier files back; a kill is recovered; stale temp files go", async () => {
  const dir = join(Deno.makeTempDirSync(), "exp", "seed-1");
  Deno.mkdirSync(join(dir, "checkpoints"), { recursive: true });
  Deno.writeTextFileSync(join(dir, "result.json"), '{"status":"completed"}');
  Deno.writeTextFileSync(join(dir, "checkpoints", "latest.ckpt"), "old");
  Deno.writeTextFileSync(join(dir, "checkpoints", "latest.ckpt.77.0123abcd.tmp"), "half");

  // failed before its first checkpoint: the earlier files come back, the new ones go
  let guard = await RunGuard.claim(dir, { fresh: true });
  assert.ok(!Deno.readDirSync(join(dir, "checkpoints")).some((e) => e.name.endsWith(".tmp")));
  await assert.rejects(RunGuard.claim(dir), RunFolderBusyError, "held: a second claim is refused");
  await guard.beforeWrite();
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [LOCK_FILE]);
  Deno.writeTextFileSync(join(dir, "config.json"), "new");
  assert.equal(await guard.failed(), true);
  await guard.release();
  const restored = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(restored, ["checkpoints", "result.json"]);
  assert.equal(Deno.readTextFileSync(join(dir, "checkpoints", "latest.ckpt")), "old");

  // killed between setting aside and its first checkpoint: the next claim restores
  guard = await RunGuard.claim(dir, { fresh: true });
  await guard.beforeWrite();
  Deno.writeTextFileSync(join(dir, "config.json"), "new");
  await guard.release(); // as a kill would leave it, less the lock
  assert.ok(Deno.statSync(previousPath(dir)).isDirectory);
  guard = await RunGuard.claim(dir, { fresh: true });
  await guard.release();
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "checkpoints",
    "result.json",
  ]);
  assert.throws(() => Deno.statSync(previousPath(dir)), Deno.errors.NotFound);

  // an earlier run that never completed is deleted once the new one has a checkpoint
  Deno.writeTextFileSync(join(dir, "result.json"), '{"status":"diverged"}');
  guard = await RunGuard.claim(dir, { fresh: true });
  await guard.beforeWrite();
  await guard.started();
  assert.equal(await guard.failed(), false, "after the first checkpoint nothing is restored");
  await guard.release();
  assert.deepEqual([...Deno.readDirSync(join(dir, ".."))].map((e) => e.name), ["seed-1"]);
  Deno.removeSync(join(dir, "..", ".."), { recursive: true });
});

Deno.test("names that would leave --out are refused in one line (exit 2)", async () => {
  const dir = Deno.makeTempDirSync();
  const dots = join(dir, "...json");
  Deno.copyFileSync(join(CONFIG_DIR, "gaussian-moments.json"), dots);
  const stage = join(dir, "stage.json");
  const tfd = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, "tfd-mlp.json")));
  tfd.generator.pretrained.experiment = "../../etc/x";
  Deno.writeTextFileSync(stage, JSON.stringify(tfd));
  const out = join(dir, "out");
  const r1 = await runBench([dots, "--out", out]);
  assert.equal(r1.code, EXIT.usage);
  assert.equal(
    r1.stderr,
    `error: ${dots}: unusable experiment name; found the file name ".."; expected letters, ` +
      "digits, '.', '_', '-' (first a letter or digit, no '..'): the run folder is named after " +
      "the config file\n",
  );
  const r2 = await runBench([stage, "--out", out]);
  assert.equal(r2.code, EXIT.usage);
  assert.equal(
    r2.stderr,
    `error: ${stage}: invalid config; at $.generator.pretrained.experiment: found ` +
      `"../../etc/x" (string); expected the name of a config under configs/ (letters, digits, ` +
      "'_', '-'), not a path\n",
  );
  const r3 = await runBench(["gaussian-moments", "--out", out, "--set", "training.batchSize=0"]);
  assert.equal(r3.code, EXIT.usage);
  assert.equal(
    r3.stderr,
    `error: ${join(CONFIG_DIR, "gaussian-moments.json")} (with --set training.batchSize=0): ` +
      "invalid config; at $.training.batchSize: found 0 (number); expected a number ≥ 1\n",
  );
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, "nothing written");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("exit codes: operating-system errors are data/IO (3), bugs are 1 and say so", () => {
  // a real OS error: a file used as a folder (/dev/full would need --allow-all under deno task)
  const file = Deno.makeTempFileSync();
  const fsError = (() => {
    try {
      Deno.writeFileSync(join(file, "x"), new Uint8Array(8));
    } catch (e) {
      return e;
    }
  })();
  Deno.removeSync(file);
  assert.equal(exitCodeOf(fsError), EXIT.io);
  // the path is in the message or not depending on the permission flags the test runs under
  assert.match(errorLine(fsError), /^Not a directory \(os error 20\)(: writefile '[^']+')?$/);
  assert.equal(exitCodeOf(new Deno.errors.NotFound("x")), EXIT.io);
  assert.equal(exitCodeOf(new TypeError("oops")), EXIT.failed);
  assert.equal(errorLine(new TypeError("a\n  b")), "internal error: a; b (--debug shows where)");
});

Deno.test("a config that cannot fit is refused up front with the estimate, the limit and the biggest items", async () => {
  const out = Deno.makeTempDirSync();
  Deno.removeSync(out);
  const wide = await runBench([
    "mnist-mlp",
    "--out",
    out,
    "--max-memory",
    "16",
    "--set",
    "generator.layers[0].units=1000000000",
  ]);
  assert.equal(wide.code, EXIT.usage);
  // a --set variant is first told that the config's bands were measured without the change
  assert.match(wide.stderr, /^note: mnist-mlp with --set is a variant: its 3 stability bands/);
  assert.equal(
    wide.stderr.slice(wide.stderr.indexOf("error: ")),
    "error: mnist-mlp needs about 3.39e+4 GB of memory, more than the 16 GB --max-memory " +
      "allows; biggest: gradients and the training step's copies 1.94e+4 GB, parameters and " +
      "optimiser slots (1300G weights) 9.69e+3 GB\n",
  );
  const many = await runBench(["mnist-mlp", "--out", out, "--set", "metrics.samples=100000000"]);
  assert.equal(many.code, EXIT.usage);
  assert.match(
    many.stderr,
    /^note: .*\nerror: mnist-mlp needs about 5\.85e\+2 GB of memory, more than the \d+ GB this machine has; biggest: evaluation buffers \(100M samples\) 5\.84e\+2 GB, the mnist data \(70,000 examples\) 0\.61 GB\n$/,
  );
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, "nothing written");
});

Deno.test("data readers refuse non-regular files, files larger than the format allows and gzip members that inflate past it", () => {
  const dir = Deno.makeTempDirSync();
  const images = join(dir, "train-images-idx3-ubyte");
  // a folder given for Fashion-MNIST: no known checksums, so the reader itself must refuse
  const load = () => loadDataset("fashion-mnist", { fashionMnist: dir });
  const refused = (expected: string) =>
    assert.throws(load, (e: Error) => e instanceof DataError && e.message === expected);

  Deno.symlinkSync("/dev/zero", images);
  refused(`${images}: expected a regular file; found a device, FIFO or socket`);
  Deno.removeSync(images);

  // a sparse file far larger than MNIST's training images can be
  Deno.writeFileSync(images, new Uint8Array(0));
  Deno.truncateSync(images, 2 ** 36);
  refused(
    `${images}: expected at most ${
      IDX_MAX_BYTES.trainImages + 65_536
    } bytes (the largest this data set's file can be); found ${2 ** 36} bytes`,
  );
  Deno.removeSync(images);

  // a small gzip member that inflates past the size of the file it claims to be
  Deno.writeFileSync(`${images}.gz`, gzipSync(new Uint8Array(IDX_MAX_BYTES.trainImages + 1)));
  assert.ok(Deno.statSync(`${images}.gz`).size < 100_000);
  refused(
    `${images}.gz: expected at most ${IDX_MAX_BYTES.trainImages} bytes once inflated (the ` +
      "largest this file can be); found more: it was not inflated further",
  );
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("input JSON.parse accepts but a config must not be is refused in one line: deep nesting, duplicate keys, 1e400, an empty --set segment, an --out that is a file", async () => {
  const dir = Deno.makeTempDirSync();
  const text = Deno.readTextFileSync(join(CONFIG_DIR, "gaussian-moments.json"));
  const cases: [string, string, string[], string][] = [
    [
      "deep.json",
      `{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
      [],
      "cannot parse config; found values nested more than 64 levels deep (line 1); expected at most 64 levels",
    ],
    [
      "dup.json",
      text.replace('"training": {', '"training": {"batchSize": 3,'),
      [],
      `cannot parse config; found the key "batchSize" twice in one object (line ${
        text.slice(0, text.indexOf('"batchSize"')).split("\n").length
      }); expected each key once (JSON parsers keep only the last)`,
    ],
    [
      "over.json",
      text.replace(/"batchSize": \d+/, '"batchSize": 1e400'),
      [],
      "invalid config; at $.training.batchSize: found Infinity (a number beyond the largest double); expected a number",
    ],
  ];
  for (const [name, body, args, expected] of cases) {
    const file = join(dir, name);
    Deno.writeTextFileSync(file, body);
    const r = await runBench([file, "--out", join(dir, "out"), ...args]);
    assert.equal(r.code, EXIT.usage, name);
    assert.equal(r.stderr, `error: ${file}: ${expected}\n`, name);
  }
  const empty = await runBench(["gaussian-moments", "--list", "--set", "training..batchSize=5"]);
  assert.equal(empty.code, EXIT.usage);
  assert.equal(
    empty.stderr,
    `error: ${join(CONFIG_DIR, "gaussian-moments.json")} (with --set training..batchSize=5): bad ` +
      'override; found an empty field name in "training..batchSize"; expected a field path such ' +
      "as training.budget.iterations\n",
  );
  const file = join(dir, "a-file");
  Deno.writeTextFileSync(file, "");
  const out = await runBench(["gaussian-moments", "--out", file]);
  assert.equal(out.code, EXIT.io);
  assert.equal(out.stderr, `error: --out ${file} is a file, not a folder\n`);
  Deno.removeSync(dir, { recursive: true });
});
