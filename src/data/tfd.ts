/**
 * The Toronto Face Database, read from a user-supplied TFD_48x48.mat exactly as pylearn2's
 * TFD(which_set, fold, scale=True) did (docs/paper-protocol.md §6): `folds[:, fold]` codes
 * 0 unlabeled, 1 train, 2 valid, 3 test; images flattened row by row and divided by 255;
 * expression labels 1..7 become 0..6. TFD is not publicly distributed.
 */
import { join } from "node:path";
import { verify } from "./checksum.ts";
import type { Dataset, Split } from "./dataset.ts";
import { DataError, readFileOrFail } from "./errors.ts";
import { columnMajorIndex, type MatArray, readMat5 } from "./formats/mat5.ts";

export const TFD_ENV = "GANBENCH_TFD";

export function tfdMissingHint(): string {
  return "TFD is not publicly distributed (access is by request to Joshua M. Susskind, " +
    "University of Toronto; see docs/paper-protocol.md §6). Put TFD_48x48.mat at " +
    `${defaultTfdPath()}, or pass --tfd PATH, or set ${TFD_ENV}=PATH.`;
}

/** Where TFD is looked for: the flag, then $GANBENCH_TFD, then pylearn2's usual place. */
export function defaultTfdPath(flag?: string): string {
  if (flag) return flag;
  const env = Deno.env.get(TFD_ENV);
  if (env) return env;
  const pylearn2 = Deno.env.get("PYLEARN2_DATA_PATH");
  return pylearn2 ? join(pylearn2, "faces/TFD/TFD_48x48.mat") : "data/TFD_48x48.mat";
}

const SET_CODES = { unlabeled: 0, train: 1, valid: 2, test: 3 } as const;

export function loadTfd(path: string, { fold = 0 } = {}): Dataset {
  if (!Number.isInteger(fold) || fold < 0 || fold > 4) {
    throw new RangeError(`TFD fold must be 0..4, got ${fold}`);
  }
  const bytes = readFileOrFail(path, tfdMissingHint());
  const file = verify(path, bytes);
  const vars = readMat5(bytes, path);
  const get = (name: string): MatArray => {
    const v = vars.get(name);
    if (!v) {
      throw new DataError(
        path,
        `a variable "${name}" (TFD has images, folds, labs_ex, labs_id)`,
        `variables ${[...vars.keys()].join(", ") || "(none)"}`,
      );
    }
    return v;
  };
  const images = get("images"), folds = get("folds"), labsEx = get("labs_ex");
  const [n, h, w] = images.dims;
  if (images.dims.length !== 3 || h !== w) {
    throw new DataError(
      path,
      "images of N×S×S (S = 48 or 96)",
      `images of ${images.dims.join("×")}`,
    );
  }
  if (folds.dims.length !== 2 || folds.dims[0] !== n || folds.dims[1] !== 5) {
    throw new DataError(path, `folds of ${n}×5`, `folds of ${folds.dims.join("×")}`);
  }
  if (labsEx.dims[0] !== n) {
    throw new DataError(path, `labs_ex with ${n} rows`, `labs_ex of ${labsEx.dims.join("×")}`);
  }
  const dim = h * w;
  const code = (i: number) => folds.values[columnMajorIndex(folds.dims, [i, fold])];
  const select = (setCode: number, labeled: boolean): Split => {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (code(i) === setCode) rows.push(i);
    const out = new Float32Array(rows.length * dim);
    const labels = labeled ? new Uint8Array(rows.length) : null;
    rows.forEach((row, r) => {
      // pylearn2 flattens the (S, S) image in C order: pixel (i, j) → i·S + j
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          out[r * dim + i * w + j] = images.values[row + n * (i + h * j)] / 255;
        }
      }
      if (labels) {
        const label = labsEx.values[row] - 1;
        if (!(label >= 0 && label <= 6)) {
          throw new DataError(
            path,
            "expression labels 1–7 for labeled images",
            `${label + 1} at row ${row}`,
          );
        }
        labels[r] = label;
      }
    });
    return { images: out, labels, count: rows.length };
  };
  const splits: Record<string, Split> = {
    unlabeled: select(SET_CODES.unlabeled, false),
    train: select(SET_CODES.train, true),
    valid: select(SET_CODES.valid, true),
    test: select(SET_CODES.test, true),
  };
  for (const [name, split] of Object.entries(splits)) {
    if (split.count === 0) {
      throw new DataError(path, `some ${name} images in fold ${fold}`, "none (is this TFD?)");
    }
  }
  return {
    name: `tfd-fold${fold}`,
    shape: [1, h, w],
    dim,
    scale: "[0,1]",
    splits,
    source: path,
    files: [file],
  };
}
