import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { multipartBoundary, readMultipartRelated } from '#local/storage-emulator/multipart-related';
import { requestBody } from '#local/storage-emulator/http-io';
import type { IncomingMessage } from 'node:http';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'multipart-related-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** the body, fed in small pieces so delimiters straddle chunk edges */
function chunked(body: Buffer, size = 7): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) pieces.push(body.subarray(i, i + size));
  return Readable.from(pieces);
}

async function parse(contentType: string, body: Buffer) {
  const file = join(dir, `media-${n++}`);
  const parts = await readMultipartRelated(contentType, chunked(body), file);
  return { ...parts, media: await readFile(file) };
}

function seeded(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

describe('multipartBoundary (RFC 2045 parameter syntax, plus the single quotes gcloud uses)', () => {
  it('reads a token, a quoted-string with escapes, and a single-quoted value', () => {
    expect(multipartBoundary('multipart/related; boundary=abc123')).toBe('abc123');
    expect(multipartBoundary('multipart/related; charset=x; boundary="a b=c"')).toBe('a b=c');
    expect(multipartBoundary('multipart/related; boundary="a\\=b"')).toBe('a=b');
    expect(multipartBoundary("multipart/related; boundary='===============3288374836004156850=='")).toBe('===============3288374836004156850==');
    expect(multipartBoundary('Multipart/Related; BOUNDARY=xyz; type=application/json')).toBe('xyz');
  });

  it('refuses a missing, empty or over-long boundary, or one with characters RFC 2046 excludes', () => {
    expect(() => multipartBoundary('multipart/related')).toThrow(/without a boundary/);
    expect(() => multipartBoundary('multipart/related; boundary=""')).toThrow(/without a boundary/);
    expect(() => multipartBoundary(`multipart/related; boundary=${'a'.repeat(71)}`)).toThrow(/not valid/);
    expect(() => multipartBoundary('multipart/related; boundary="a<b"')).toThrow(/not valid/);
    expect(() => multipartBoundary('multipart/related; boundary="ends in space "')).toThrow(/not valid/);
  });
});

describe('readMultipartRelated', () => {
  it("parses gcloud's body: single-quoted boundary of = signs, bare LF line breaks", async () => {
    const b = '===============3288374836004156850==';
    const body = Buffer.from(
      `--${b}\nContent-Type: application/json\nMIME-Version: 1.0\n\n{"bucket": "bkt", "contentType": "text/plain", "name": "small.txt"}\n` +
        `--${b}\nContent-Type: text/plain\nMIME-Version: 1.0\nContent-Transfer-Encoding: binary\n\nhello\n\n--${b}--\n`,
    );
    const parsed = await parse(`multipart/related; boundary='${b}'`, body);
    expect(parsed.metadata).toEqual({ bucket: 'bkt', contentType: 'text/plain', name: 'small.txt' });
    expect(parsed.mediaContentType).toBe('text/plain');
    expect(parsed.media.toString()).toBe('hello\n');
  });

  it('parses CRLF with a preamble and an epilogue, keeping the media byte for byte', async () => {
    const media = Buffer.concat([seeded('media', 300_000), Buffer.from('\r\n--xx not a delimiter\r\n--xxy\r\n\r\n')]);
    const body = Buffer.concat([
      Buffer.from('This is the preamble; it is to be ignored.\r\n--xx\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{"name":"a.bin"}\r\n'),
      Buffer.from('--xx\r\nContent-Type: application/octet-stream\r\n\r\n'),
      media,
      Buffer.from('\r\n--xx--\r\nThis is the epilogue.\r\n'),
    ]);
    const parsed = await parse('multipart/related; boundary="xx"', body);
    expect(parsed.metadata).toEqual({ name: 'a.bin' });
    expect(parsed.mediaContentType).toBe('application/octet-stream');
    expect(parsed.media.equals(media)).toBe(true);
  });

  it('keeps an empty media part and a trailing CRLF inside the media', async () => {
    const empty = await parse('multipart/related; boundary=q', Buffer.from('--q\r\n\r\n{}\r\n--q\r\n\r\n\r\n--q--'));
    expect(empty.media.length).toBe(0);
    const trailing = await parse('multipart/related; boundary=q', Buffer.from('--q\r\n\r\n{}\r\n--q\r\n\r\nline\r\n\r\n--q--'));
    expect(trailing.media.toString()).toBe('line\r\n');
  });

  it('says what is wrong with a body that is not two parts with JSON first', async () => {
    await expect(parse('multipart/related; boundary=q', Buffer.from('--q\r\n\r\n{}\r\n--q--'))).rejects.toThrow('multipart upload must have 2 parts, got 1');
    await expect(parse('multipart/related; boundary=q', Buffer.from('no delimiter at all'))).rejects.toThrow('multipart upload must have 2 parts, got 0');
    await expect(parse('multipart/related; boundary=q', Buffer.from('--q\r\n\r\nnot json\r\n--q\r\n\r\nx\r\n--q--'))).rejects.toThrow('metadata is not JSON');
    await expect(parse('multipart/related; boundary=q', Buffer.from('--q\r\n\r\n[1]\r\n--q\r\n\r\nx\r\n--q--'))).rejects.toThrow('not a JSON object');
    await expect(parse('application/json', Buffer.from('{}'))).rejects.toMatchObject({ status: 400 });
    await expect(parse('multipart/related; boundary=q', Buffer.from('--q\r\n\r\n{}\r\n--q\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=41\r\n--q--'))).rejects.toThrow(
      /quoted-printable is not supported/,
    );
  });

  it('reads a gzip-encoded body (gcloud --gzip-in-flight) once requestBody undoes the encoding', async () => {
    const plain = Buffer.from('--q\r\n\r\n{"name":"z"}\r\n--q\r\n\r\nzipped\r\n--q--\r\n');
    const gz = Readable.from([plain]).pipe(createGzip());
    const req = Object.assign(gz, { headers: { 'content-encoding': 'gzip' } }) as unknown as IncomingMessage;
    const file = join(dir, 'gz');
    const parsed = await readMultipartRelated('multipart/related; boundary=q', requestBody(req), file);
    expect(parsed.metadata).toEqual({ name: 'z' });
    expect(await readFile(file, 'utf8')).toBe('zipped');
  });
});
