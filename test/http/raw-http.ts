/** Talks HTTP/1.1 over a bare TCP socket, for what fetch will not send (malformed or slow requests). */
import { connect } from "node:net";

export interface RawExchange {
  /** Everything the server sent before it closed the connection (or the deadline passed). */
  readonly data: string;
  /** Milliseconds from connecting until the server closed, or null if it was still open at the deadline. */
  readonly closedAfterMs: number | null;
}

export function rawExchange(url: string, text: string, deadlineMs = 5000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let data = "";
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(text));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closedAfterMs: null });
    }, deadlineMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ data, closedAfterMs: performance.now() - started });
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET") return;
      clearTimeout(timer);
      reject(error);
    });
  });
}
