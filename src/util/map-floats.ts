/**
 * `f` of every value, into a new Float32Array. Not `Float32Array.from(x, f)`: V8 collects
 * every value of that in a JS list first, which for MNIST's 55M pixels raised a run's peak
 * memory by about 2 GB (measured with /usr/bin/time; docs/performance.md, the memory model).
 */
export function mapFloats(x: Float32Array, f: (v: number) => number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}
