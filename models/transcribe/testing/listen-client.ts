// A minimal Deepgram live client on `ws` for tests: collects every server message and the close.
import { readFile } from "node:fs/promises";
import WebSocket from "ws";

export interface ServerMessage {
  type: string;
  [key: string]: unknown;
}

export interface ResultsMsg extends ServerMessage {
  type: "Results";
  start: number;
  duration: number;
  is_final: boolean;
  speech_final: boolean;
  from_finalize: boolean;
  channel_index: [number, number];
  channel: { alternatives: { transcript: string; confidence: number; words: { word: string; start: number; end: number; confidence: number; punctuated_word?: string }[] }[] };
}

export interface Refusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class ListenClient {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      if (isBinary) throw new Error("the server sent a binary frame");
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a session, or rejects with the HTTP refusal (status, headers, body). */
  static open(port: number, query: string, path = "/v1/listen"): Promise<ListenClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}?${query}`);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new ListenClient(ws)));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { refusal: { status: res.statusCode ?? 0, headers: res.headers, body } })));
      });
      ws.once("error", (err) => reject(err));
    });
  }

  get results(): ResultsMsg[] {
    return this.messages.filter((m): m is ResultsMsg => m.type === "Results");
  }

  /** Resolves with the first message matching `pred` (already received or yet to come). */
  async waitFor<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean, capMs = 60000): Promise<T> {
    const deadline = Date.now() + capMs;
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found as T;
      if (Date.now() > deadline) throw new Error(`no matching message within ${capMs} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
        void this.closed.then(() => {
          clearTimeout(t);
          resolve();
        });
      });
      if (this.ws.readyState === WebSocket.CLOSED && !this.messages.find(pred)) throw new Error(`closed before a matching message; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
    }
  }

  sendFile = async (path: string, chunkBytes = 512 * 1024): Promise<void> => {
    this.sendBytes(await readFile(path), chunkBytes);
  };

  sendBytes(bytes: Buffer, chunkBytes = 512 * 1024): void {
    for (let i = 0; i < bytes.length; i += chunkBytes) this.ws.send(bytes.subarray(i, i + chunkBytes));
  }

  control(type: "KeepAlive" | "Finalize" | "CloseStream"): void {
    this.ws.send(JSON.stringify({ type }));
  }

  /** Final transcript: the finals' transcripts joined. */
  finalTranscript(channel = 0): string {
    return this.results
      .filter((r) => r.is_final && r.channel_index[0] === channel)
      .map((r) => r.channel.alternatives[0].transcript)
      .filter((t) => t.length > 0)
      .join(" ");
  }
}

/** Opens a session expecting a refusal; returns it. */
export async function refusal(port: number, query: string, path?: string): Promise<Refusal> {
  try {
    const c = await ListenClient.open(port, query, path);
    c.ws.terminate();
  } catch (err) {
    const r = (err as { refusal?: Refusal }).refusal;
    if (r) return r;
    throw err;
  }
  throw new Error("the handshake was accepted");
}
