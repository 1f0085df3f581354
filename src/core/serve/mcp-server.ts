/**
 * The MCP server object: three read-only tools over a FollowingIndex. One is made per stdio session
 * and per HTTP request (stateless streamable HTTP); they all share the one FollowingIndex.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import { packageVersion } from '../build-info.js';
import { IndexctlError } from '../errors.js';
import type { FollowingIndex } from '../search/follow.js';
import {
  MAX_FETCH,
  MAX_K,
  fetchInput,
  fetchOutput,
  fetchTool,
  searchInput,
  searchOutput,
  searchTool,
  statusInput,
  statusOutput,
  statusTool,
} from './tools.js';

export interface ToolCallCounts {
  calls: number;
  failed: number;
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** "BadInputError: ..." for our errors (the class says what kind of mistake); the message for others. */
export function toolErrorText(err: unknown): string {
  if (err instanceof IndexctlError) return `${err.name}: ${err.message}`;
  return `internal error: ${err instanceof Error ? err.message : String(err)}`;
}

async function answer(
  counts: ToolCallCounts,
  run: () => Promise<Record<string, unknown>>,
): Promise<CallToolResult> {
  counts.calls++;
  try {
    const out = await run();
    // structuredContent for clients that read it; the same JSON as text for those that do not.
    return { structuredContent: out, content: [{ type: 'text', text: JSON.stringify(out) }] };
  } catch (err) {
    counts.failed++;
    return { isError: true, content: [{ type: 'text', text: toolErrorText(err) }] };
  }
}

export function createMcpServer(following: FollowingIndex, counts: ToolCallCounts): McpServer {
  const server = new McpServer({ name: 'indexctl', version: packageVersion() });
  server.registerTool(
    'search',
    {
      title: 'Search the code index',
      description:
        `k nearest chunks to a query: a vector of the served version's dimension, a chunk id (its stored ` +
        `embedding), or text when the version was embedded by the built-in embedder (status.text_search). ` +
        `k is 1..${MAX_K}. Hits are hydrated (id, uri, lang, lines, score, faiss_row), best first; ids are strings.`,
      inputSchema: searchInput,
      outputSchema: searchOutput,
      annotations: READ_ONLY,
    },
    (input) => answer(counts, () => searchTool(following, input)),
  );
  server.registerTool(
    'fetch',
    {
      title: 'Fetch chunks',
      description: `Chunks by id (1..${MAX_FETCH}) with their text, in the order asked; ids with no chunk are listed in missing.`,
      inputSchema: fetchInput,
      outputSchema: fetchOutput,
      annotations: READ_ONLY,
    },
    (input) => answer(counts, () => fetchTool(following, input)),
  );
  server.registerTool(
    'status',
    {
      title: 'Index status',
      description:
        'The version served (it follows CURRENT), its factory, metric, dimension, vectors, tuning and search parameters.',
      inputSchema: statusInput,
      outputSchema: statusOutput,
      annotations: READ_ONLY,
    },
    () => answer(counts, () => statusTool(following)),
  );
  return server;
}
