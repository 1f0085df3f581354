/**
 * The shape of the flag table (src/cli-options.ts): each flag declares its parser, default, choices
 * and conflicts once, and each command's typed options are derived from its rows, so a command
 * reads `ctx.options.trainSample` as a `number | undefined` and never re-parses a string.
 */
import type { Parser } from './parsers.js';

interface SpecBase<F extends string> {
  /** commander's flags: `--train-sample <n>`, `--attr <key=value...>`, `--dry-run`. */
  readonly flags: F;
  readonly description: string;
  /** Other flags (by option key) that cannot be given with this one. */
  readonly conflicts?: readonly string[];
}

/** A boolean switch: `--dry-run`. */
export interface SwitchSpec<F extends string = string> extends SpecBase<F> {
  readonly kind: 'switch';
}

/**
 * A flag with a value. `presence` says what a command may rely on: `optional` (undefined when not
 * given), `defaulted` (the default when not given), `required` (commander refuses the command
 * without it, exit 2).
 */
export interface ValueSpec<F extends string = string, V = unknown> extends SpecBase<F> {
  readonly kind: 'value';
  readonly presence: 'optional' | 'defaulted' | 'required';
  readonly parse: Parser<V> | ((raw: string, previous: V | undefined) => V);
  readonly defaultValue?: V;
  /** Shown in --help and docs/cli.md instead of the default value itself. */
  readonly defaultLabel?: string;
  /** Listed in --help and docs/cli.md ("choices: l2, ip, cosine"). */
  readonly choices?: readonly string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any row, whatever its value type
export type OptionSpec = SwitchSpec | ValueSpec<string, any>;

type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;

/** `--train-sample <n>` -> `trainSample`, as commander names the attribute. */
export type KeyOf<F extends string> = F extends `--${infer Name} ${string}`
  ? Camel<Name>
  : F extends `--${infer Name}`
    ? Camel<Name>
    : never;

type ValueOf<S> = S extends { kind: 'switch' }
  ? boolean
  : S extends { presence: 'optional'; defaultValue?: infer V }
    ? V | undefined
    : S extends { defaultValue?: infer V }
      ? V
      : never;

/** The typed options of a command, derived from its rows of the table. */
export type OptionsOf<T extends readonly OptionSpec[]> = {
  [S in T[number] as KeyOf<S['flags']>]: ValueOf<S>;
};

export function switchFlag<const F extends string>(
  flags: F,
  description: string,
  extra: { conflicts?: readonly string[] } = {},
): SwitchSpec<F> {
  return { kind: 'switch', flags, description, ...extra };
}

interface ValueExtra {
  conflicts?: readonly string[];
  choices?: readonly string[];
}

/** A flag that may be absent: the command sees `undefined`. */
export function optional<const F extends string, V>(
  flags: F,
  description: string,
  parse: ValueSpec<F, V>['parse'],
  extra: ValueExtra = {},
): ValueSpec<F, V> & { presence: 'optional' } {
  return { kind: 'value', presence: 'optional', flags, description, parse, ...extra };
}

/** A flag with a default: the command always sees a value. */
export function defaulted<const F extends string, V>(
  flags: F,
  description: string,
  parse: ValueSpec<F, V>['parse'],
  defaultValue: V,
  extra: ValueExtra & { defaultLabel?: string } = {},
): ValueSpec<F, V> & { presence: 'defaulted' } {
  return { kind: 'value', presence: 'defaulted', flags, description, parse, defaultValue, ...extra };
}

/** A flag the command cannot run without. */
export function required<const F extends string, V>(
  flags: F,
  description: string,
  parse: ValueSpec<F, V>['parse'],
  extra: ValueExtra = {},
): ValueSpec<F, V> & { presence: 'required' } {
  return { kind: 'value', presence: 'required', flags, description, parse, ...extra };
}

/** The same flag with another description (`--embedding-column` of --queries vs --vector-file). */
export function described<S extends OptionSpec>(spec: S, description: string): S {
  return { ...spec, description };
}

/** The attribute name commander gives a flag at run time (the runtime twin of KeyOf). */
export function keyOf(flags: string): string {
  const long = /--([a-z0-9-]+)/i.exec(flags)?.[1] ?? flags;
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
