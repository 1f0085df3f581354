/**
 * A preload (`NODE_OPTIONS=--import dist/test/helpers/slow-cli-load.js`) that holds the load of
 * dist/src/cli.js for $SLOW_CLI_MS (default 3000) after saying so on stderr: a test sends its signal
 * while the CLI's modules are loading, on any machine (test/signals.test.ts).
 */
import { register } from 'node:module';

register('./slow-cli-hooks.js', import.meta.url, {
  data: { ms: Number(process.env.SLOW_CLI_MS ?? 3000) },
});
