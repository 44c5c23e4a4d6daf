import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export interface ConnectionCounter {
  /** https://127.0.0.1:PORT, relaying every byte to the target. */
  readonly url: string;
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of a TLS server that counts the connections made through it, so connection reuse, and the
 * one handshake a refused certificate costs, can be observed. It relays bytes only: the TLS session is still
 * between the client and the server.
 */
export async function countConnections(targetUrl: string): Promise<ConnectionCounter> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let connections = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect(Number(target.port), target.hostname);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      const closed = once(server, 'close');
      server.close();
      await closed;
    },
  };
}
