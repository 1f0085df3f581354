import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root directory (this file is dist/src/core/util/paths.js once compiled). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
