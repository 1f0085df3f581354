/**
 * The zod that the modules on every command's start-up path use (the manifest schema, the publish
 * log): zod/mini, the functional API of the same zod 4, with its English messages.
 *
 * The full zod is 95 ES modules whose import took 0.09-0.13 s on this machine before the first
 * manifest could be read: most of what `verify --level 1` on a small version spent beyond node
 * itself (docs/PERFORMANCE.md "verify start-up"). Compiled by tsc, this file still loads zod/mini's
 * modules; `npm run build:ts` (scripts/build-ts.js) replaces it with one esbuild bundle of what is
 * exported here and nothing else (about 60 KB, a few ms).
 *
 * The MCP server's schemas (serve/tools.ts) import 'zod' itself: the SDK inspects them with its
 * own copy of zod.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export {
  _default,
  boolean,
  enum,
  int,
  literal,
  looseObject,
  maximum,
  minimum,
  minLength,
  nonnegative,
  nullable,
  nullish,
  number,
  object,
  optional,
  positive,
  record,
  regex,
  string,
  superRefine,
  unknown,
} from 'zod/mini';
export type { infer } from 'zod/mini';
export type { $ZodError, $ZodIssue } from 'zod/v4/core';
