import { createRequire } from 'node:module';

/**
 * Arrow IPC metadata is flatbuffers, and apache-arrow trusts the vector lengths it reads there: one corrupted
 * byte can declare a vector of two billion fields, and decoding then loops "forever" on the event loop — one
 * bad request would stall every other caller (found by the fuzz test). A valid vector can never hold more
 * elements than its buffer has bytes, so lengths beyond that are refused where every decoder reads them.
 * apache-arrow's ESM and CJS builds both load flatbuffers' single CommonJS entry, so this covers both.
 */
interface ByteBufferLike {
  readInt32(offset: number): number;
  capacity(): number;
}

const require = createRequire(import.meta.url);
const { ByteBuffer } = require('flatbuffers') as { ByteBuffer: { prototype: ByteBufferLike & { __vector_len(offset: number): number; __guarded?: true } } };

export class CorruptFlatbufferError extends Error {}

if (!ByteBuffer.prototype.__guarded) {
  ByteBuffer.prototype.__vector_len = function vectorLength(this: ByteBufferLike, offset: number): number {
    const length = this.readInt32(offset + this.readInt32(offset));
    if (length < 0 || length > this.capacity()) {
      throw new CorruptFlatbufferError(`corrupt Arrow metadata: a vector claims ${length} elements in a ${this.capacity()}-byte buffer`);
    }
    return length;
  };
  ByteBuffer.prototype.__guarded = true;
}
