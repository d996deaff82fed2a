import net from 'node:net';
import { freePorts } from '../helpers/ports';

describe('Free ports for the processes a test starts', () => {
  // Four ports as the drain and CLI tests take them for the demo stand-ins. Asked for one at a time
  // (listen on 0, close, listen again) a set of four repeats a port about once in a thousand
  // (19 of 20,000 sets on the 2-core machine); 4,000 sets find one with a chance of about 98%.
  it('answers distinct ports in every set, each one a listener can then take', async () => {
    const repeated: number[][] = [];
    for (let i = 0; i < 4000; i++) {
      const ports = await freePorts(4);
      if (new Set(ports).size !== ports.length) repeated.push(ports);
    }
    expect(repeated).toEqual([]);
    const ports = await freePorts(4);
    for (const port of ports) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      await new Promise((resolve) => s.close(resolve));
    }
  });
});
