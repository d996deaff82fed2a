/**
 * Ports for a process a test starts later on a port named in its config (a gateway's demo stand-ins,
 * a MariaDB of its own), which cannot listen on port 0 and say where.
 *
 * Each port is one the kernel gave a listener on 127.0.0.1:0, and every listener stays open until
 * all `n` are chosen: one port asked for, closed and the next asked for can come back the same
 * (about one set of four in a thousand), and two stand-ins on one port stop the gateway's start.
 * A port is free when it is answered, not reserved: another process can still take it before the
 * caller binds it.
 */
import net from 'node:net';

/** `n` distinct ports on 127.0.0.1, free when answered. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}

/** One free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}
