/** The module hooks of slow-cli-load.ts (they run on the loader thread). */
let ms = 3000;

export function initialize(data: { ms: number }): void {
  ms = data.ms;
}

export async function load(
  url: string,
  context: unknown,
  next: (url: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  if (url.endsWith('/dist/src/cli.js')) {
    process.stderr.write('slow-cli-load: holding dist/src/cli.js\n');
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
  return next(url, context);
}
