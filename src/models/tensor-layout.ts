/**
 * How a network's parameters and optimiser slots are laid out when read back as one flat
 * float32 array: the shape shared by checkpoints (src/record/checkpoint.ts), fingerprints
 * (src/record/fingerprint.ts) and the code that reads and writes the tensors
 * (src/models/tensor-state.ts). Types only, so the run record stays free of TF.js.
 */

/** One named tensor inside the flat array: `length` values from `offset`. */
export interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** Named tensors' values, in the order of `tensors`. */
export interface CapturedTensors {
  tensors: TensorEntry[];
  values: Float32Array;
}
