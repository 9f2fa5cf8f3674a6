import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postOnce } from '#local/emulators/http-post';

describe('postOnce', () => {
  let server: Server;
  let url: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const seen: Array<{ path: string; body: string; type: string | undefined }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString(), type: req.headers['content-type'] });
        if (req.url === '/slow') return; // never answers
        res.writeHead(req.url === '/fail' ? 503 : 204);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test("sends the body and headers and gives the answer's status", async () => {
    expect(await postOnce(`${url}/ok`, '{"a":"é"}', { agent, headers: { 'content-type': 'application/json' }, timeoutMs: 5_000 })).toEqual({ status: 204 });
    expect(await postOnce(`${url}/fail`, Buffer.from('x'), { agent, headers: {}, timeoutMs: 5_000 })).toEqual({ status: 503 });
    expect(seen.slice(0, 2)).toEqual([
      { path: '/ok', body: '{"a":"é"}', type: 'application/json' },
      { path: '/fail', body: 'x', type: undefined },
    ]);
  });

  test('says why no answer came: refused, too slow, aborted', async () => {
    // port 1: privileged, so no test process can be listening there
    expect(await postOnce('http://127.0.0.1:1/', 'x', { agent, headers: {}, timeoutMs: 5_000 })).toEqual({ error: expect.stringContaining('ECONNREFUSED') });
    expect(await postOnce('https://127.0.0.1:1/', 'x', { agent, headers: {}, timeoutMs: 5_000 })).toEqual({ error: expect.stringContaining('not supported') });
    expect(await postOnce(`${url}/slow`, 'x', { agent, headers: {}, timeoutMs: 300 })).toEqual({ error: 'no answer within 300 ms' });
    const ac = new AbortController();
    const aborted = postOnce(`${url}/slow`, 'x', { agent, headers: {}, timeoutMs: 5_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect(await aborted).toEqual({ error: expect.stringMatching(/abort/i) });
  });
});
