// The last lines of an instance's log, quoted in FailureReason and VariantStatus so a user sees
// why a model did not start without opening the file.

import { open } from "node:fs/promises";

export async function tailLines(file: string, maxLines = 10, maxBytes = 8192): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split(/\r?\n/).filter((l) => l.trim() !== "");
    // The first line may be cut in the middle when the read did not start at the file's start.
    if (length < size && lines.length > 1) lines.shift();
    return lines.slice(-maxLines);
  } finally {
    await handle.close();
  }
}

/** Fits `head` plus as many of the last log lines as the limit allows (FailureReason max 1024). */
export function withLogLines(head: string, lines: readonly string[], limit = 1024): string {
  if (lines.length === 0) return head.slice(0, limit);
  const prefix = `${head} Last log lines: `;
  let body = lines.join(" | ");
  const room = limit - prefix.length;
  if (room <= 0) return head.slice(0, limit);
  if (body.length > room) body = `…${body.slice(body.length - room + 1)}`;
  return prefix + body;
}
