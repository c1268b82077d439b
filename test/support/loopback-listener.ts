/** A TCP listener on 127.0.0.1 that counts connections, for "no network" oracles. */
import { createServer } from "node:net";

export interface LoopbackListener {
  readonly port: number;
  connections(): number;
  close(): void;
}

export async function listenOnLoopback(): Promise<LoopbackListener> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, connections: () => count, close: () => server.close() };
}
