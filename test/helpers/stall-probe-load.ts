/**
 * A FAISS read that never finishes, for the --probe-timeout test: preloaded into every node process
 * with NODE_OPTIONS="--import .../stall-probe-load.js", it does nothing except in verify's index
 * probe, where it blocks the probe's thread on the `load` request before the probe reads the file,
 * as a read_index hung on a bad file would. Registered before the probe's own listener, it runs first.
 */
if (process.argv[1]?.endsWith('index-probe-child.js')) {
  process.on('message', (request: { op?: string }) => {
    if (request.op === 'load') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  });
}
