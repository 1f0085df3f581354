/** ANSI colour for the few words that carry a verdict; nothing when the stream may not show it. */
import type { OutputStream } from './terminal.js';

const CODES = { green: 32, red: 31, yellow: 33, dim: 2 } as const;
export type Colour = keyof typeof CODES;

export function paint(text: string, colour: Colour, out: Pick<OutputStream, 'colour'>): string {
  if (!out.colour) return text;
  const reset = colour === 'dim' ? 22 : 39;
  return `\u001b[${CODES[colour]}m${text}\u001b[${reset}m`;
}
