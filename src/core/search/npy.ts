/**
 * NumPy `.npy` files of float32 query vectors (`np.save(f, x.astype('float32'))`): shape `(n, d)`
 * or `(d,)`, little-endian, C order. Versions 1.0-3.0 of the format differ only in the header
 * length field. Anything else is refused with the fix in the message.
 */
import { BadInputError } from '../errors.js';

export const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export interface NpyMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= NPY_MAGIC.length && NPY_MAGIC.equals(bytes.subarray(0, NPY_MAGIC.length));
}

export function parseNpy(bytes: Buffer, file: string): NpyMatrix {
  const bad = (what: string) => new BadInputError(`${file}: ${what}`);
  if (!isNpy(bytes) || bytes.length < 10) throw bad('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw bad(`unsupported .npy format version ${major}.${bytes[7]}`);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start + headerLength) throw bad('truncated .npy header');
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLength);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad(`malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  if (descr !== '<f4' && descr !== '=f4') {
    throw bad(`.npy dtype ${descr}, expected little-endian float32 '<f4' (save x.astype('float32'))`);
  }
  if (fortran === 'True') throw bad('.npy in Fortran order; save a C-ordered array (np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0) || shape.length < 1 || shape.length > 2) {
    throw bad(`.npy shape (${shapeText}), expected (n, d) or (d,)`);
  }
  const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
  const dataStart = start + headerLength;
  const expected = rows * cols * 4;
  if (bytes.length - dataStart !== expected) {
    throw bad(
      `.npy shape (${shapeText}) needs ${expected} bytes of data, the file has ${bytes.length - dataStart}`,
    );
  }
  // Copied out: the data offset need not be 4-byte aligned in the file buffer.
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart));
  return { rows, cols, data };
}
