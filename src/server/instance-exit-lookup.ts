// InstanceExits (runtime) over the control plane's live state: the exit is usually known within
// milliseconds of the broken connection (both come from the same kill), but either can arrive
// first, so the lookup waits for the live state's next changes, up to a bound.
import type { LiveStateReader } from "../control/index.js";
import type { InstanceExit } from "../hosting/host.js";
import type { InstanceExits } from "../runtime/instance-exits.js";

export function instanceExitLookup(live: LiveStateReader): InstanceExits {
  return {
    exitOf: (instanceId, waitMs) => {
      const known = live.instanceExit(instanceId);
      if (known !== undefined) return Promise.resolve(describe(known));
      return new Promise((resolve) => {
        const done = (exit: InstanceExit | undefined): void => {
          clearTimeout(timer);
          unsubscribe();
          resolve(exit === undefined ? undefined : describe(exit));
        };
        const timer = setTimeout(() => done(undefined), waitMs);
        const unsubscribe = live.onChange(() => {
          const exit = live.instanceExit(instanceId);
          if (exit !== undefined) done(exit);
        });
      });
    },
  };
}

function describe(exit: InstanceExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
