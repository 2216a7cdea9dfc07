// The last lines of an instance's log, for a FailureReason that quotes what the model said
// before it died (DESIGN §3). Reads only the end of the file: logs grow without bound.

import { open } from "node:fs/promises";

export interface LogTailOptions {
  /** At most this many lines (default 10). */
  lines?: number;
  /** Read at most this many bytes from the end (default 16 KiB). */
  maxBytes?: number;
}

/** The last lines of the file, without trailing empty lines; [] if it does not exist. */
export async function readLogTail(path: string, options: LogTailOptions = {}): Promise<string[]> {
  const lines = options.lines ?? 10;
  const maxBytes = options.maxBytes ?? 16 * 1024;
  let file;
  try {
    file = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  try {
    const { size } = await file.stat();
    const truncated = size > maxBytes;
    // When the window starts mid-file, read the byte before it too: the text up to the first
    // newline is then exactly the partial line to drop (or just that newline, if none is partial).
    const length = truncated ? maxBytes + 1 : size;
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    let text = buffer.toString("utf8");
    if (truncated) text = text.slice(text.indexOf("\n") + 1);
    const all = text.split("\n");
    while (all.length > 0 && all[all.length - 1].trim() === "") all.pop();
    return all.slice(-lines);
  } finally {
    await file.close();
  }
}
