/**
 * `deno task schema`: writes configs/schema.json from the zod schema (src/config/json-schema.ts),
 * the file every config names as its `$schema`; test/config_extends_test.ts fails while the
 * committed file is stale.
 */
import { configJsonSchemaText, SCHEMA_FILE } from "../config/json-schema.ts";
import { parseCommand, runMain } from "./args.ts";

const USAGE = `usage: deno task schema

Writes configs/schema.json, the JSON Schema every config names as its "$schema" (so an editor
completes and checks configs), from the zod schema in src/config/schema.ts.

  -h, --help  show this help
  --version   print ganbench's version

exit codes:
  0  written
  2  a bad flag or argument
`;

function main(args: string[]): number {
  if (parseCommand({ name: "schema", usage: USAGE, options: {} }, args) === null) return 0;
  Deno.writeTextFileSync(SCHEMA_FILE, configJsonSchemaText());
  console.log(`wrote ${SCHEMA_FILE.pathname}`);
  return 0;
}

if (import.meta.main) await runMain("schema", () => main(Deno.args));
