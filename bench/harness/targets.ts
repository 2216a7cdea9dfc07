// What the load generator is told about a path: plain data, so it crosses the IPC channel.

export type PathName = "direct" | "nginx" | "sluice";
export const ALL_PATHS: readonly PathName[] = ["direct", "nginx", "sluice"];

export type Target =
  | { path: "direct" | "nginx"; kind: "websocket"; url: string }
  | {
      path: "sluice";
      kind: "sluice";
      url: string;
      endpointName: string;
      region: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
      /** Sessions that share one client (one HTTP/2 connection). 1 = every session its own client, like AWS's SDK. */
      sessionsPerConnection: number;
    };

/** Processes whose CPU and memory the load generator samples, by role. */
export type Watched = Partial<Record<"sluice" | "nginx" | "echo", number[]>>;
