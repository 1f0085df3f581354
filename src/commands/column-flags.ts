/** The hydration column flags of `build` (`--uri-column` etc.), shared by its shard path. */
import type { MetadataColumn } from '../core/build/build.js';
import type { build as buildCommand, CommandOptions } from '../cli-options.js';

type Options = CommandOptions<typeof buildCommand>;

/** The hydration columns the flags rename (defaults are left out: the file's names are canonical). */
export function metadataColumns(o: Options): Partial<Record<MetadataColumn, string>> {
  const names: Record<MetadataColumn, string> = {
    uri: o.uriColumn,
    lang: o.langColumn,
    start_line: o.startLineColumn,
    end_line: o.endLineColumn,
  };
  return Object.fromEntries(Object.entries(names).filter(([column, name]) => name !== column));
}
