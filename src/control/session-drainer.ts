// What the control plane needs from routing (DESIGN §3: a part above declares the interface and
// the server hands it the implementation). Before stopping instances during a rollout, a scale-in,
// a delete or shutdown, the reconciler has already taken them out of rotation; it then asks the
// drainer to let their sessions finish.

export interface SessionDrainer {
  /** Sessions open on the instance now (for Sluice.ListInstances). */
  activeSessions(instanceId: string): number;
  /**
   * Resolves when no session is left on these instances, or after `timeoutMs`, by which time the
   * implementation has ended the remaining ones (ModelStreamError DrainDeadlineExceeded).
   */
  drain(instanceIds: readonly string[], timeoutMs: number): Promise<void>;
}

/** Until routing is wired in: nothing to count, nothing to wait for. */
export const noSessionDrainer: SessionDrainer = {
  activeSessions: () => 0,
  drain: async () => {},
};
