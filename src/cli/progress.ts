/**
 * The progress display on stderr: iteration, ETA, rate, latest losses and a bar, then each
 * phase after training (evaluating, figures, writing), so no phase is silent.
 *  - a terminal: one line, cut to the terminal's width and redrawn in place;
 *  - a pipe or CI log: one line every 10%, or after LOG_QUIET_MS without one (a long run's
 *    10% can take hours), and one per phase, so logs stay short;
 *  - a --jobs worker under a terminal: its state as JSON lines for the parent, which draws
 *    one line per running worker (ProgressBoard).
 * The rate counts only iterations done in this process (a resumed run's earlier ones are not).
 */
import type { Progress } from "../train/progress.ts";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

/** What one run's progress line shows. */
export interface ProgressState {
  label: string;
  iteration: number;
  iterations: number;
  /** Iterations per second in this process; null until measured. */
  rate: number | null;
  /** Seconds left; null until measured. */
  eta: number | null;
  dLoss: number | null;
  gLoss: number | null;
  /** After the training loop: what the run is doing now (null while training). */
  phase: string | null;
}

/** Widest and narrowest bar drawn; below the narrowest the bar is dropped. */
const BAR = { max: 24, min: 8 };

/**
 * The line for `s`, at most `columns - 1` characters (a full-width line wraps on some
 * terminals). Fields go by priority: the bar shrinks, then goes, then the losses, the rate and
 * the ETA; the label is cut last (with "…").
 */
export function formatProgress(s: ProgressState, columns: number): string {
  const limit = Math.max(columns - 1, 10);
  const count = `${s.iteration}/${s.iterations}`;
  if (s.phase !== null) return cutEnd(`${fit([s.label, count], limit)} ${s.phase}`, limit);
  const eta = `ETA ${s.eta === null ? "--" : formatDuration(s.eta)}`;
  const rate = `${s.rate === null ? "--" : s.rate.toFixed(1)} it/s`;
  const losses = s.dLoss === null ? null : `D ${fmt(s.dLoss)} G ${fmt(s.gLoss)}`;
  const bar = (width: number) => {
    const filled = Math.round((s.iteration / s.iterations) * width);
    return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  };
  const optional = [eta, rate, losses].filter((f): f is string => f !== null);
  const line = (kept: string[], barWidth: number) =>
    [s.label, ...(barWidth ? [bar(barWidth)] : []), count, ...kept].join(" ");
  for (let barWidth = BAR.max; barWidth >= BAR.min; barWidth--) {
    const text = line(optional, barWidth);
    if (text.length <= limit) return text;
  }
  for (let kept = optional.length; kept > 0; kept--) {
    const text = line(optional.slice(0, kept), 0);
    if (text.length <= limit) return text;
  }
  return fit([s.label, count], limit);
}

/**
 * Joins the fields with spaces, cutting the first (the label) to fit: its middle goes, so the
 * experiment's start and the seed at its end stay.
 */
function fit(fields: string[], limit: number): string {
  const text = fields.join(" ");
  if (text.length <= limit) return text;
  const [label] = fields, rest = fields.slice(1).join(" ");
  const room = limit - rest.length - 1; // the space before the rest
  if (room < 2) return cutEnd(text, limit);
  const tail = Math.min(8, Math.floor((room - 1) / 2));
  return `${label.slice(0, room - 1 - tail)}…${tail ? label.slice(-tail) : ""} ${rest}`;
}

function cutEnd(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function fmt(x: number | null): string {
  return x === null ? "-" : x.toFixed(3);
}

/**
 * Iterations per second since `first` (this process's first progress report, so a resumed
 * run's earlier iterations do not count) and the seconds left at that rate; null for the first
 * 2 s, which include compilation and warm-up.
 */
export function rateSince(
  first: { at: number; iteration: number },
  iteration: number,
  iterations: number,
  nowMs: number,
): { rate: number | null; eta: number | null } {
  const seconds = (nowMs - first.at) / 1000;
  const done = iteration - first.iteration;
  if (seconds < 2 || done <= 0) return { rate: null, eta: null };
  const rate = done / seconds;
  return { rate, eta: (iterations - iteration) / rate };
}

/** The stderr line a --jobs worker sends its state on, for the parent's ProgressBoard. */
export const PROGRESS_PREFIX = "@@ganbench-progress ";
/** Set by the parent when it draws its workers' lines itself. */
export const PROGRESS_ENV = "GANBENCH_PROGRESS";

type Mode = "tty" | "log" | "channel";

/** The longest a log goes without a progress line while training. */
export const LOG_QUIET_MS = 5 * 60_000;

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

function modeOfThisProcess(): Mode {
  let channel = false;
  try {
    channel = Deno.env.get(PROGRESS_ENV) === "channel";
  } catch { /* no --allow-env */ }
  if (channel) return "channel";
  return Deno.stderr.isTerminal() ? "tty" : "log";
}

const encoder = new TextEncoder();
function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

export class ProgressBar {
  readonly #mode: Mode;
  #state: ProgressState;
  /** The first progress report of this process: the rate counts from here. */
  #first: { at: number; iteration: number } | null = null;
  #lastDraw = 0;
  #lastDecile = -1;
  #lastLine = -Infinity;
  #drawn = false;
  readonly #write: (text: string) => void;
  readonly #now: () => number;

  /** `write` and `now` default to stderr and performance.now (tests give their own). */
  constructor(
    readonly label: string,
    mode: Mode = modeOfThisProcess(),
    options: { write?: (text: string) => void; now?: () => number } = {},
  ) {
    this.#mode = mode;
    this.#write = options.write ?? writeErr;
    this.#now = options.now ?? (() => performance.now());
    this.#state = {
      label,
      iteration: 0,
      iterations: 1,
      rate: null,
      eta: null,
      dLoss: null,
      gLoss: null,
      phase: null,
    };
  }

  update(p: Progress): void {
    const now = this.#now();
    this.#first ??= { at: now, iteration: p.iteration };
    this.#state = {
      ...this.#state,
      iteration: p.iteration,
      iterations: p.iterations,
      ...rateSince(this.#first, p.iteration, p.iterations, now),
      dLoss: p.dLoss,
      gLoss: p.gLoss,
      phase: null,
    };
    const last = p.iteration === p.iterations;
    if (this.#mode === "log") {
      const decile = Math.floor((10 * p.iteration) / p.iterations);
      if (decile === this.#lastDecile && now - this.#lastLine < LOG_QUIET_MS) return;
      this.#lastDecile = decile;
      this.#lastLine = now;
      this.#write(`${formatProgress(this.#state, 200)}\n`);
      return;
    }
    const every = this.#mode === "tty" ? 100 : 250;
    if (!last && now - this.#lastDraw < every) return;
    this.#lastDraw = now;
    this.#draw();
  }

  /** A phase after training ("evaluating: Parzen", "writing the run folder"): shown at once. */
  phase(name: string): void {
    this.#state = { ...this.#state, phase: name };
    if (this.#mode === "log") this.#write(`${this.label}: ${name}\n`);
    else this.#draw();
  }

  /** A line that stays (e.g. a tracked score), printed above the redrawn progress line. */
  log(line: string): void {
    if (this.#mode === "tty" && this.#drawn) this.#write("\r\x1b[2K");
    this.#write(`${this.label}: ${line}\n`);
    if (this.#mode === "tty" && this.#drawn) this.#draw();
  }

  finish(): void {
    if (this.#mode === "tty" && this.#drawn) this.#write("\r\x1b[2K");
    if (this.#mode === "channel") this.#write(`${PROGRESS_PREFIX}null\n`);
    this.#drawn = false;
  }

  #draw(): void {
    if (this.#mode === "channel") {
      this.#write(`${PROGRESS_PREFIX}${JSON.stringify(this.#state)}\n`);
      return;
    }
    this.#write(`\r\x1b[2K${formatProgress(this.#state, terminalColumns())}`);
    this.#drawn = true;
  }
}

/**
 * The parent's display of its --jobs workers on a terminal: one line per running worker,
 * redrawn in place below the log lines.
 */
export class ProgressBoard {
  readonly #rows = new Map<string, ProgressState>();
  #drawn = 0;
  #lastDraw = 0;

  constructor(readonly columns: () => number = terminalColumns) {}

  /** A worker's state (null: it finished its display). */
  set(key: string, state: ProgressState | null): void {
    if (state === null) this.#rows.delete(key);
    else this.#rows.set(key, state);
    const now = performance.now();
    if (state !== null && state.phase === null && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    this.#redraw();
  }

  /** A line that stays, above the worker lines (stdout lines too: the same terminal). */
  log(line: string, write: (line: string) => void = (l) => writeErr(`${l}\n`)): void {
    this.#clear();
    write(line);
    this.#redraw();
  }

  close(): void {
    this.#clear();
    this.#rows.clear();
  }

  #clear(): void {
    if (this.#drawn === 0) return;
    // up to the first worker line, then clear to the end of the screen
    writeErr(`\r${this.#drawn > 1 ? `\x1b[${this.#drawn - 1}A` : ""}\x1b[J`);
    this.#drawn = 0;
  }

  #redraw(): void {
    this.#clear();
    const width = this.columns();
    const lines = [...this.#rows.values()].map((s) => formatProgress(s, width));
    if (lines.length) writeErr(lines.join("\n"));
    this.#drawn = lines.length;
  }
}
