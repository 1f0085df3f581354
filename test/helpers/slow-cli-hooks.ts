/** The module hooks of slow-cli-load.ts (they run on the loader thread). */
let ms = 3000;
let evaluate = false;

export function initialize(data: { ms: number; evaluate: boolean }): void {
  ({ ms, evaluate } = data);
}

export async function load(
  url: string,
  context: unknown,
  next: (url: string, context: unknown) => Promise<{ source?: unknown }>,
): Promise<unknown> {
  if (!url.endsWith('/dist/src/cli.js')) return next(url, context);
  if (!evaluate) {
    process.stderr.write('slow-cli-load: holding dist/src/cli.js\n');
    await new Promise((resolve) => setTimeout(resolve, ms));
    return next(url, context);
  }
  const loaded = await next(url, context);
  // Import declarations are hoisted, so this runs first in cli.js's body, after its dependencies.
  const hold =
    `process.stderr.write('slow-cli-load: evaluating dist/src/cli.js\\n'); ` +
    `{ const end = Date.now() + ${ms}; while (Date.now() < end); }\n`;
  return { ...loaded, source: hold + String(loaded.source) };
}
