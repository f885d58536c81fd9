/**
 * A progress line on stderr: iteration, rate, ETA and the latest losses. Redrawn in place
 * on a terminal; on a pipe or CI log, one line every 10% so logs stay short.
 */
import type { Progress } from "../train/progress.ts";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

export function progressLine(
  label: string,
  p: Progress,
  elapsedSeconds: number,
  width = 24,
): string {
  const fraction = p.iteration / p.iterations;
  const filled = Math.round(fraction * width);
  const rate = p.iteration / Math.max(elapsedSeconds, 1e-9);
  // the first seconds include compilation and warm-up: no estimate yet
  const eta = elapsedSeconds < 2 ? NaN : (p.iterations - p.iteration) / rate;
  const losses = p.dLoss === null ? "" : ` D ${fmt(p.dLoss)} G ${fmt(p.gLoss)}`;
  return `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ` +
    `${p.iteration}/${p.iterations} ${rate.toFixed(1)} it/s ETA ${formatDuration(eta)}${losses}`;
}

function fmt(x: number | null): string {
  return x === null ? "-" : x.toFixed(3);
}

export class ProgressBar {
  readonly #start = performance.now();
  readonly #tty = Deno.stderr.isTerminal();
  #lastDraw = 0;
  #lastDecile = -1;
  readonly #encoder = new TextEncoder();

  constructor(readonly label: string) {}

  update(p: Progress): void {
    const now = performance.now();
    const done = p.iteration === p.iterations;
    if (this.#tty) {
      if (!done && now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      this.#write(`\r\x1b[2K${progressLine(this.label, p, (now - this.#start) / 1000)}`);
    } else {
      const decile = Math.floor((10 * p.iteration) / p.iterations);
      if (decile === this.#lastDecile) return;
      this.#lastDecile = decile;
      this.#write(`${progressLine(this.label, p, (now - this.#start) / 1000)}\n`);
    }
  }

  /** A line that stays (e.g. a tracked score), printed above the redrawn progress line. */
  log(line: string): void {
    this.#write(this.#tty ? `\r\x1b[2K${this.label}: ${line}\n` : `${this.label}: ${line}\n`);
    this.#lastDraw = 0;
  }

  finish(): void {
    if (this.#tty) this.#write("\n");
  }

  #write(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }
}
