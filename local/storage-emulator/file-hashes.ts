import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { CRC32C } from '@google-cloud/storage';

export interface ContentHashes {
  size: number;
  /** base64, as the JSON API reports them */
  md5Hash: string;
  crc32c: string;
}

const SMALL_FILE_BYTES = 1 << 20;

/**
 * MD5 and CRC32C of a file in one pass. CRC32C is the client library's own implementation,
 * so the values the emulator reports are exactly the ones the client validates against.
 */
export async function hashFile(path: string): Promise<ContentHashes> {
  const md5 = createHash('md5');
  const crc = new CRC32C();
  // A small file in one read: a stream costs more than the hashing (folder copies of thousands of images).
  if ((await stat(path)).size <= SMALL_FILE_BYTES) {
    const buf = await readFile(path);
    md5.update(buf);
    crc.update(buf);
    return { size: buf.length, md5Hash: md5.digest('base64'), crc32c: crc.toString() };
  }
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    const buf = chunk as Buffer;
    md5.update(buf);
    crc.update(buf);
    size += buf.length;
  }
  return { size, md5Hash: md5.digest('base64'), crc32c: crc.toString() };
}
