import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GcloudCli, type GcloudResult } from '#test/support/gcloud-cli';

/**
 * Helpers for driving the Storage emulator with the real gcloud CLI: seeded content, checksums
 * computed here (not by the emulator's code), gcloud with extra properties or stdin, a CloudEvents
 * sink, and a proxy that cuts one upload off mid-way.
 */

/** `size` bytes that depend only on `seed`: the AES-128-CTR keystream of a key derived from it. */
export function seededBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli, RFC 3720) as Cloud Storage reports it: base64 of the big-endian 4 bytes. */
export function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

export function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

/** GcloudCli with extra properties for one call (CLOUDSDK_STORAGE_...) and a stdin variant. */
export class StorageGcloud extends GcloudCli {
  private extra: NodeJS.ProcessEnv = {};

  override env(): NodeJS.ProcessEnv {
    return { ...super.env(), ...this.extra };
  }

  async with<T>(extra: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
    const saved = this.extra;
    this.extra = { ...saved, ...extra };
    try {
      return await fn();
    } finally {
      this.extra = saved;
    }
  }

  /** `gcloud ...args` reading `stdinFile` on standard input (`gcloud storage cp - gs://...`). */
  runWithStdin(args: string[], stdinFile: string): Promise<GcloudResult> {
    return new Promise((resolve) => {
      const child = spawn('gcloud', args, { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      createReadStream(stdinFile).pipe(child.stdin);
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
  }
}

/** Where the emulator pushes CloudEvents; records the type and object name of each. */
export class EventSink {
  readonly events: Array<{ type: string; name: string; size: string; md5Hash: string }> = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const data = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string; size: string; md5Hash: string };
        this.events.push({ type: String(req.headers['ce-type']), name: data.name, size: data.size, md5Hash: data.md5Hash });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/`;
  }

  finalized(name: string): number {
    return this.events.filter((e) => e.type === 'google.cloud.storage.object.v1.finalized' && e.name === name).length;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

export interface ProxiedRequest {
  method: string;
  path: string;
  contentRange?: string;
  status: number;
  /** the Range header of a 308 answer */
  range?: string;
}

/**
 * A pass-through proxy to the emulator that cuts the first whole-file resumable PUT off once
 * `cutAfter` bytes went through and the emulator reports holding some of them, the way a
 * dropped connection does. It records every request and answer.
 */
export class CuttingProxy {
  readonly seen: ProxiedRequest[] = [];
  cuts = 0;
  private server: Server | undefined;
  url = '';

  constructor(
    private readonly target: string,
    private readonly cutAfter: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const headers: IncomingHttpHeaders = { ...req.headers };
      const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', contentRange: header(headers['content-range']), status: 0 };
      const upstream = request(new URL(req.url ?? '/', this.target), { method: req.method, headers }, (up) => {
        entry.status = up.statusCode ?? 0;
        entry.range = header(up.headers.range);
        this.seen.push(entry);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      const cutThis = this.cuts === 0 && req.method === 'PUT' && /^bytes 0-\d+\/\d+$/.test(entry.contentRange ?? '');
      if (!cutThis) {
        req.pipe(upstream);
        return;
      }
      this.cuts++;
      let sent = 0;
      req.on('data', (chunk: Buffer) => {
        if (sent >= this.cutAfter) return;
        upstream.write(chunk);
        sent += chunk.length;
        if (sent < this.cutAfter) return;
        req.pause();
        void this.untilHeld(req.url ?? '/').then(() => {
          this.seen.push({ ...entry, status: -1 });
          upstream.destroy();
          req.socket.destroy();
        });
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/`;
  }

  /** asks the emulator itself (a `bytes * /*` status query) until it holds part of the upload */
  private async untilHeld(path: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const r = await fetch(new URL(path, this.target), { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
      await r.arrayBuffer();
      if (r.headers.get('range')) return;
      await new Promise((ok) => setTimeout(ok, 10));
    }
    throw new Error(`timed out waiting for the emulator to hold part of the upload ${path}`);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
