/**
 * The one place TensorFlow.js is imported. `@tensorflow/tfjs` registers every op's
 * gradient (tfjs-core alone does not, and its ESM subpaths do not resolve under Deno);
 * the wasm and webgpu backends register themselves on import.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-webgpu";

import { installLeanBackprop } from "./lean-backprop.ts";

// Production mode only silences TF.js's console banners and warnings (e.g. the cpu
// backend's "install tfjs-node" notice); numerics are unchanged.
tf.enableProdMode();
// backward passes free each node's saved tensors and gradients once it is done with them
installLeanBackprop(tf);

export { tf };
export type Tensor = tf.Tensor;
export type Tensor2D = tf.Tensor2D;
export type Scalar = tf.Scalar;
export type Variable = tf.Variable;
