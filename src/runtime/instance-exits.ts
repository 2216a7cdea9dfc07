// What the runtime asks the control plane when a session breaks (DESIGN §2: StreamBroken's
// Message names the exit code or signal). The sidecar only sees a connection end; whether the
// process behind it died, and how, is known to whoever started it. `server` wires this to the
// control plane's live state.

export interface InstanceExits {
  /**
   * How the instance's process ended ("signal SIGKILL", "code 3"), waiting up to `waitMs` for the
   * exit to be known; undefined if the process is still running by then (the connection broke
   * for another reason) or the instance is unknown.
   */
  exitOf(instanceId: string, waitMs: number): Promise<string | undefined>;
}

export const NO_INSTANCE_EXITS: InstanceExits = { exitOf: async () => undefined };
