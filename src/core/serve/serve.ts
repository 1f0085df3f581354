/**
 * `indexctl serve`'s core: an MCP server over a root, following CURRENT (a FollowingIndex), on stdio
 * (one client, the process that spawned us) or on streamable HTTP (stateless: each POST is a
 * complete exchange, so any number of clients and no session state to lose on a flip). Read-only:
 * the tools only search and read the catalog, which is opened READ_ONLY.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

import { EnvironmentIoError } from '../errors.js';
import { openIndex } from '../search/open-index.js';
import type { SwitchEvent } from '../search/follow.js';
import { createMcpServer, type ToolCallCounts } from './mcp-server.js';

export interface HttpAddress {
  host: string;
  port: number;
}

export interface ServeOptions {
  root: string;
  /** Streamable HTTP on this address (port 0: any free port); stdio when undefined. */
  http?: HttpAddress;
  /** Checksum each version's faiss.index before serving it. */
  verifyChecksum?: boolean;
  /** How often CURRENT is polled besides the watch (ms). */
  pollIntervalMs?: number;
  /** Stops the server (SIGINT/SIGTERM in the command). */
  signal?: AbortSignal;
  /** Lines for the operator: the version served, flips, errors, the HTTP address. */
  log?: (line: string) => void;
  /** The HTTP server is listening (its URL); for callers that start clients. */
  onListening?: (url: string) => void;
  /** Stdio streams (default: the process's). */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

export interface ServeReport {
  transport: 'stdio' | 'http';
  url?: string;
  /** The version served first and last. */
  first_version: string;
  last_version: string;
  switches: number;
  follow_errors: number;
  calls: number;
  failed_calls: number;
}

export const MCP_PATH = '/mcp';

/** Serves until the signal aborts (or, on stdio, the client closes stdin); then closes everything. */
export async function serve(options: ServeOptions): Promise<ServeReport> {
  const log = options.log ?? (() => undefined);
  const following = await openIndex(
    { root: options.root, follow: true },
    {
      verifyChecksum: options.verifyChecksum ?? false,
      ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      onSwitch: (e: SwitchEvent) => log(`serving version ${e.to} (was ${e.from})`),
      onError: (err: Error) =>
        log(`CURRENT flipped but could not be followed; still serving: ${err.message}`),
    },
  );
  const first = following.version;
  log(`serving version ${first} of ${following.root}`);
  const counts: ToolCallCounts = { calls: 0, failed: 0 };
  let url: string | undefined;
  try {
    if (options.http) {
      url = await serveHttp(options.http, () => createMcpServer(following, counts), options, log);
    } else {
      await serveStdio(() => createMcpServer(following, counts), options);
    }
  } finally {
    await following.close();
  }
  return {
    transport: options.http ? 'http' : 'stdio',
    ...(url !== undefined ? { url } : {}),
    first_version: first,
    last_version: following.version,
    switches: following.stats.switches,
    follow_errors: following.stats.errors,
    calls: counts.calls,
    failed_calls: counts.failed,
  };
}

type MakeServer = () => ReturnType<typeof createMcpServer>;

async function serveStdio(make: MakeServer, options: ServeOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const server = make();
  const transport = new StdioServerTransport(
    stdin as NodeJS.ReadStream & typeof process.stdin,
    (options.stdout ?? process.stdout) as NodeJS.WriteStream & typeof process.stdout,
  );
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  // The SDK's stdio transport does not notice the client going away; end of stdin is that.
  const end = () => void server.close();
  stdin.once('end', end);
  options.signal?.addEventListener('abort', end, { once: true });
  try {
    await server.connect(transport);
    if (options.signal?.aborted) await server.close();
    await closed;
  } finally {
    stdin.off('end', end);
    options.signal?.removeEventListener('abort', end);
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function jsonRpcError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function listen(server: ReturnType<typeof createServer>, address: HttpAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      reject(
        new EnvironmentIoError(
          `cannot listen on ${address.host}:${address.port}: ${err.code ?? err.message}`,
          {
            cause: err,
          },
        ),
      );
    };
    server.once('error', failed);
    server.listen(address.port, address.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

async function serveHttp(
  address: HttpAddress,
  make: MakeServer,
  options: ServeOptions,
  log: (line: string) => void,
): Promise<string> {
  let port = address.port;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== MCP_PATH) return jsonRpcError(res, 404, `not found: the MCP endpoint is ${MCP_PATH}`);
    if (req.method !== 'POST') {
      // Stateless: no session to resume or delete, no server-initiated stream to open.
      res.setHeader('allow', 'POST');
      return jsonRpcError(res, 405, `method ${req.method ?? ''} not allowed: POST JSON-RPC messages`);
    }
    const server = make();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      // On a loopback address, refuse pages on other origins that rebind a name to 127.0.0.1.
      ...(LOOPBACK.has(address.host)
        ? {
            enableDnsRebindingProtection: true,
            allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`],
          }
        : {}),
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (err) {
      log(`HTTP request failed: ${(err as Error).message}`);
      if (!res.headersSent) jsonRpcError(res, 500, 'internal error');
    }
  };
  const http = createServer((req, res) => void handle(req, res));
  await listen(http, address);
  port = (http.address() as AddressInfo).port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host}:${port}${MCP_PATH}`;
  log(`listening on ${url}`);
  options.onListening?.(url);
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  http.closeAllConnections();
  await closed;
  return url;
}
