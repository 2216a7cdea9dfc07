// Client PayloadParts → WebSocket frames (DESIGN §2 step 5). A COMPLETE part outside a run is
// one whole message. A run of PARTIAL parts closed by a COMPLETE one is one fragmented message,
// held back until the run completes: a run that turns out malformed (type change, invalid
// UTF-8, input ending mid-run, too large) must forward nothing, and a UTF-8 code point may be
// split across parts, so text can only be validated whole.
import { isUtf8 } from "node:buffer";
import type { InternalStreamFailureReason, PayloadPart } from "../protocol/events.js";

export interface Frame {
  data: Uint8Array;
  binary: boolean;
  /** False on every fragment of a run but the last. */
  fin: boolean;
}

export type FramerResult =
  | { ok: true; frames: Frame[] }
  | { ok: false; reason: InternalStreamFailureReason; detail: string };

const HELD: FramerResult = { ok: true, frames: [] };

export class InputFramer {
  private run: Uint8Array[] = [];
  private runBinary = false;
  private runBytes = 0;

  constructor(private readonly maxPayloadBytes: number) {}

  /** Bytes of an incomplete PARTIAL run held back. */
  get heldBytes(): number {
    return this.runBytes;
  }

  get inRun(): boolean {
    return this.run.length > 0;
  }

  push(part: PayloadPart): FramerResult {
    const dataType = part.DataType ?? "BINARY";
    const completion = part.CompletionState ?? "COMPLETE";
    // The event-stream decoder hands header values through as strings; anything else is malformed.
    if (dataType !== "BINARY" && dataType !== "UTF8") {
      return this.fail("MalformedEvent", `DataType ${JSON.stringify(dataType)} is neither UTF8 nor BINARY`);
    }
    if (completion !== "PARTIAL" && completion !== "COMPLETE") {
      return this.fail("MalformedEvent", `CompletionState ${JSON.stringify(completion)} is neither PARTIAL nor COMPLETE`);
    }
    const binary = dataType === "BINARY";
    const bytes = part.Bytes;

    if (this.run.length === 0) {
      if (bytes.byteLength > this.maxPayloadBytes) {
        return this.fail("PayloadTooLarge", `part of ${bytes.byteLength} bytes exceeds the ${this.maxPayloadBytes}-byte limit`);
      }
      if (completion === "COMPLETE") {
        if (!binary && !isUtf8(bytes)) return this.fail("MalformedEvent", "UTF8 part is not valid UTF-8");
        return { ok: true, frames: [{ data: bytes, binary, fin: true }] };
      }
      this.run.push(bytes);
      this.runBinary = binary;
      this.runBytes = bytes.byteLength;
      return HELD;
    }

    // Inside a run: the first part fixed the message's type.
    if (binary !== this.runBinary) {
      return this.fail("MalformedEvent", `DataType changed from ${this.runBinary ? "BINARY" : "UTF8"} to ${dataType} within a PARTIAL run`);
    }
    this.runBytes += bytes.byteLength;
    if (this.runBytes > this.maxPayloadBytes) {
      return this.fail("PayloadTooLarge", `PARTIAL run reached ${this.runBytes} bytes, over the ${this.maxPayloadBytes}-byte limit`);
    }
    this.run.push(bytes);
    if (completion === "PARTIAL") return HELD;

    const parts = this.run;
    if (!binary && !isUtf8(Buffer.concat(parts, this.runBytes))) {
      return this.fail("MalformedEvent", "reassembled UTF8 message is not valid UTF-8");
    }
    this.reset();
    const last = parts.length - 1;
    return { ok: true, frames: parts.map((data, i) => ({ data, binary, fin: i === last })) };
  }

  /** The client's input ended: an open run can never complete. */
  end(): FramerResult {
    if (this.run.length === 0) return HELD;
    return this.fail("MalformedEvent", `input ended inside a PARTIAL run (${this.run.length} parts, ${this.runBytes} bytes held)`);
  }

  private fail(reason: InternalStreamFailureReason, detail: string): FramerResult {
    this.reset();
    return { ok: false, reason, detail };
  }

  private reset(): void {
    this.run = [];
    this.runBytes = 0;
    this.runBinary = false;
  }
}
