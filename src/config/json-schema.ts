/**
 * configs/schema.json, the JSON Schema editors use to complete and check a config (each
 * config names it in "$schema"), generated from the zod schema so the two cannot drift:
 * `deno task schema` writes it, and a test fails when the committed file is not current.
 * Refinements (cross-field rules such as "high > low") are not expressible there; the loader
 * still checks them. A config with "extends" gives only what it changes, so it is checked
 * against the same schema with every field optional.
 */
import { z } from "zod";
import { ExperimentConfig } from "./schema.ts";

export const SCHEMA_FILE = new URL("../../configs/schema.json", import.meta.url);

type Json = unknown;

/** Every field optional, and a union's options no longer exclusive (a partial fits several). */
function partial(node: Json): Json {
  if (Array.isArray(node)) return node.map(partial);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "required") continue;
    out[k === "oneOf" ? "anyOf" : k] = partial(v);
  }
  return out;
}

export function configJsonSchema(): Record<string, Json> {
  const generated = z.toJSONSchema(ExperimentConfig, { io: "input", unrepresentable: "any" });
  const { $schema, ...config } = generated as Record<string, Json> & {
    properties: Record<string, Json>;
  };
  config.properties = {
    $schema: { type: "string", description: "This file: configs/schema.json" },
    extends: {
      type: "string",
      description: "A config to start from (a name under configs/ or a path relative to this " +
        "file); this file then gives only what it changes. Objects merge, arrays and other " +
        'values replace. Stability bands are inherited only where marked "variants": true.',
    },
    ...config.properties,
  };
  return {
    $schema,
    title: "ganbench experiment config",
    if: { required: ["extends"] },
    then: { $ref: "#/$defs/variant" },
    else: { $ref: "#/$defs/config" },
    $defs: { config, variant: partial(config) },
  };
}

export function configJsonSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + "\n";
}
