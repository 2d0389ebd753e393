/**
 * Text that may start with a UTF-16 byte-order mark (FF FE little-endian, FE FF big-endian), as
 * Gammu reads outbox `.txt` files and `-inputunicode` input. An odd trailing byte is not part of
 * any character and is dropped. Returns undefined when there is no BOM.
 */
export function decodeUtf16WithBom(buf: Buffer): string | undefined {
  const body = buf.subarray(2, 2 + ((buf.length - 2) & ~1));
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return body.toString('utf16le');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff)
    return Buffer.from(body).swap16().toString('utf16le');
  return undefined;
}
