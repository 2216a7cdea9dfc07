// Open bidi sessions by instance, so draining (rollout, scale-in, delete, shutdown) can wait for
// them or end them, and so metrics can count them.

export interface DrainableSession {
  readonly instanceId: string;
  /** Resolves when the session has ended, however it ended. */
  readonly ended: Promise<void>;
  /**
   * End it with ModelStreamError DrainDeadlineExceeded (after what the container sent) if it is
   * still open `deadlineMs` from now; the Message says how long it was given.
   */
  expireAfter(deadlineMs: number): void;
  /** HTTP/2 output not yet sent + queued input + WebSocket buffer. */
  bufferedBytes(): number;
}

export class BidiSessionRegistry {
  private readonly byInstance = new Map<string, Set<DrainableSession>>();

  add(session: DrainableSession): void {
    let set = this.byInstance.get(session.instanceId);
    if (!set) this.byInstance.set(session.instanceId, (set = new Set()));
    set.add(session);
    void session.ended.then(() => {
      set!.delete(session);
      if (set!.size === 0 && this.byInstance.get(session.instanceId) === set) this.byInstance.delete(session.instanceId);
    });
  }

  count(instanceId?: string): number {
    if (instanceId !== undefined) return this.byInstance.get(instanceId)?.size ?? 0;
    let n = 0;
    for (const set of this.byInstance.values()) n += set.size;
    return n;
  }

  /** Bytes held by every open session: tests assert this bound, metrics export it. */
  bufferedBytes(): number {
    let n = 0;
    for (const set of this.byInstance.values()) for (const s of set) n += s.bufferedBytes();
    return n;
  }

  /**
   * Lets the sessions on these instances run to their end for up to `deadlineMs`, then expires
   * the ones still open; resolves when all have ended.
   */
  async drain(instanceIds: string[] | "all", deadlineMs: number): Promise<void> {
    const sessions: DrainableSession[] = [];
    for (const [id, set] of this.byInstance) {
      if (instanceIds === "all" || instanceIds.includes(id)) sessions.push(...set);
    }
    if (sessions.length === 0) return;
    // Each session keeps its own deadline (the sidecar's timer), so the client is told the
    // deadline it was given, not the moment the registry gave up waiting.
    for (const s of sessions) s.expireAfter(deadlineMs);
    await Promise.all(sessions.map((s) => s.ended));
  }
}
