/**
 * Text queries: a version can be searched by text only when its vectors came from an embedder this
 * process has. Today that is the built-in feature-hashing embedder of `indexctl sample`, which
 * `build` records as the manifest attr `embedder` ({ name, dim }, src/core/sample/embedder-record.ts)
 * when the chunks file came from `sample`; `search --text` checks the same record. Everything about
 * it is in this one function, so a real embedder plugs in here.
 */
import { BadInputError } from '../errors.js';
import type { Manifest } from '../manifest/schema.js';
import { EMBEDDER, embedText } from '../sample/embed.js';
import { builtInEmbedder } from '../sample/embedder-record.js';

/** Whether `manifest`'s vectors came from an embedder queries can be embedded with here. */
export function canEmbedText(manifest: Manifest): boolean {
  return builtInEmbedder(manifest.attrs, manifest.vec_dim) !== undefined;
}

/** The query vector of `text` (vec_dim floats), or BadInputError saying why there is none. */
export function embedQueryText(manifest: Manifest, text: string): Float32Array {
  if (!canEmbedText(manifest)) {
    const recorded = manifest.attrs?.embedder;
    throw new BadInputError(
      `version ${manifest.version} cannot be searched by text: its vectors come from ` +
        `${recorded === undefined ? 'an embedder it does not record (manifest attrs.embedder)' : `embedder ${JSON.stringify(recorded)} at dimension ${manifest.vec_dim}`}, ` +
        `and only ${EMBEDDER} is built in; give a vector or a chunk id`,
    );
  }
  const vector = new Float32Array(manifest.vec_dim);
  if (!embedText(text, manifest.vec_dim, vector)) {
    throw new BadInputError(`text ${JSON.stringify(text.slice(0, 80))} has no words to search for`);
  }
  return vector;
}
