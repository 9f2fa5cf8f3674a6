import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from '#local/emulators/process-group';

const ephemeralLow = () => Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

/**
 * freePort picks below the kernel's ephemeral range, where no outgoing connection can take the
 * port between the pick and the server's listen (what listen(0) gives is in that range).
 */
describe('freePort', () => {
  it('gives ports below the ephemeral range that a server can then listen on', async () => {
    const low = ephemeralLow();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(low);
    }
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.on('error', reject);
      srv.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise((r) => srv.close(r));
  });
});
