// FailureReason (max 1024 characters in the service model) quoting an instance's last log lines,
// so a user sees why a model did not start without opening the file.

/** `head` plus as many of the last log lines as fit in `limit`; the newest lines win. */
export function withLogLines(head: string, lines: readonly string[], limit = 1024): string {
  if (lines.length === 0) return head.slice(0, limit);
  const prefix = `${head} Last log lines: `;
  const room = limit - prefix.length;
  if (room <= 1) return head.slice(0, limit);
  let body = lines.map((l) => l.trim()).join(" | ");
  if (body.length > room) body = `…${body.slice(body.length - room + 1)}`;
  return prefix + body;
}
