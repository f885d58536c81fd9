/** Where downloaded data sets are cached: $XDG_CACHE_HOME/ganbench, else ~/.cache/ganbench. */
import { join } from "node:path";

export function defaultCacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME") ?? ".";
  return join(xdg ?? join(home, ".cache"), "ganbench");
}
