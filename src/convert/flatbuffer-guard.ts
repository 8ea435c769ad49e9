// Defence in depth. Arrow IPC metadata is flatbuffers, and apache-arrow trusts the vector lengths it reads
// there: a corrupted length could declare two billion schema fields or buffers, and decoding would then loop
// for minutes on the event loop, stalling every other caller. A valid vector can never hold more elements than
// its buffer has bytes, so longer ones are refused where every decoder reads them. (The hangs the fuzz test
// did find are handled in read-arrow.ts.) apache-arrow's ESM and CJS builds both load flatbuffers' single
// CommonJS entry (a dependency of ours too), so this covers both, and read-arrow.ts's own schema reading.
import { createRequire } from 'node:module';

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
