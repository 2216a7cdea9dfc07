// The Engine API multiplexes a container's stdout and stderr on one stream (when it has no TTY):
// each frame is an 8-byte header — stream type, three zero bytes, payload length (big endian) —
// then the payload. Both go to the instance's one log file, so this strips the headers and keeps
// the bytes, as a Transform so a slow disk pushes back on the engine instead of filling memory.

import { Transform, type TransformCallback } from "node:stream";

const HEADER = 8;

export class LogDemux extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current frame's payload still to come. */
  private remaining = 0;
  /** Set when the stream turned out not to be multiplexed; everything passes through. */
  private raw = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.raw) return done(null, chunk);
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, buf.length);
        this.push(buf.subarray(0, take));
        this.remaining -= take;
        buf = buf.subarray(take);
        continue;
      }
      if (buf.length < HEADER) {
        this.pending = Buffer.from(buf);
        break;
      }
      const type = buf[0];
      if (type > 2 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0) {
        // A TTY container's log is not framed: keep its bytes rather than garble them.
        this.raw = true;
        this.push(buf);
        break;
      }
      this.remaining = buf.readUInt32BE(4);
      buf = buf.subarray(HEADER);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    // A header cut off by the end of the stream carries no output worth keeping.
    done();
  }
}
