/**
 * A preload (`NODE_OPTIONS=--import dist/test/helpers/slow-cli-load.js`) that holds the load of
 * dist/src/cli.js for $SLOW_CLI_MS (default 3000) after saying so on stderr: a test sends its signal
 * while the CLI's modules are loading, on any machine (test/signals.test.ts).
 * With SLOW_CLI_PHASE=evaluate the hold is a busy wait at the top of cli.js's own body instead, the
 * last module of the graph to run: the main thread is busy and the event loop does not turn, so a
 * signal stays pending in libuv until the import has resolved.
 */
import { register } from 'node:module';

register('./slow-cli-hooks.js', import.meta.url, {
  data: {
    ms: Number(process.env.SLOW_CLI_MS ?? 3000),
    evaluate: process.env.SLOW_CLI_PHASE === 'evaluate',
  },
});
