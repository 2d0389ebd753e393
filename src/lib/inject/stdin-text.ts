import { InjectError, EXIT } from './errors.js';
import { decodeUtf16WithBom } from '../sms/bom-text.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** UTF-16 with a byte-order mark (FF FE little-endian, FE FF big-endian), as `-inputunicode` expects. */
export function decodeUnicodeInput(buf: Buffer): string {
  const text = decodeUtf16WithBom(buf);
  if (text === undefined)
    throw new InjectError(
      '-inputunicode: standard input does not start with a UTF-16 byte-order mark (FF FE or FE FF)',
      EXIT.parameter,
    );
  return text;
}

/**
 * The message text from standard input, as gammu-smsd-inject reads it: a prompt on a terminal,
 * one trailing newline dropped when read and another one from the final text.
 */
export async function readMessageText(
  stdin: NodeJS.ReadableStream & { isTTY?: boolean },
  stderr: NodeJS.WritableStream,
  inputUnicode: boolean,
): Promise<string> {
  if (stdin.isTTY) stderr.write('Enter the message text and press Ctrl+D:\n');
  const buf = await readAll(stdin);
  let text = inputUnicode ? decodeUnicodeInput(buf) : buf.toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.length === 0) stderr.write('No chars read, assuming it is okay!\n');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  return text;
}
