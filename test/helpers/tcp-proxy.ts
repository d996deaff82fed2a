/**
 * A TCP proxy in front of a database, so a test can break the database for its own connections
 * only (other test files share the server): `freeze()` stops forwarding bytes both ways and keeps
 * every socket open, as a server stopped with SIGSTOP or a silent network would; `stop()` cuts
 * every connection and refuses new ones, as a server that is down; `restore()` undoes either.
 */
import net from 'node:net';

export type ProxyState = 'forwarding' | 'frozen' | 'stopped';

export interface TcpProxy {
  /** 127.0.0.1 port the proxy listens on. */
  port: number;
  state(): ProxyState;
  /** Connections currently open through the proxy. */
  connections(): number;
  freeze(): void;
  stop(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let state: ProxyState = 'forwarding';
  type Pair = { client: net.Socket; upstream: net.Socket; held: Array<[net.Socket, Buffer]> };
  const pairs = new Set<Pair>();
  const destroy = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const server = net.createServer((client) => {
    if (state === 'stopped') {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    // While frozen, bytes are held here (in order) and written on restore: nothing is lost, nothing arrives.
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (state === 'frozen') pair.held.push([to, chunk]);
      else to.write(chunk);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const end = () => destroy(pair);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    state: () => state,
    connections: () => pairs.size,
    freeze() {
      state = 'frozen';
    },
    stop() {
      state = 'stopped';
      for (const pair of [...pairs]) destroy(pair);
    },
    restore() {
      state = 'forwarding';
      for (const pair of pairs) for (const [to, chunk] of pair.held.splice(0)) to.write(chunk);
    },
    close() {
      for (const pair of [...pairs]) destroy(pair);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
