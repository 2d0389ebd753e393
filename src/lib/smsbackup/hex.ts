/** Gammu writes hex in upper case; UCS-2BE for text codings. */
export function utf16beHex(text: string): string {
  // 'utf16le' keeps every UTF-16 code unit as it is (lone surrogates too); swapped to big-endian.
  return Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();
}

export function hexToUtf16be(hex: string): string {
  let out = '';
  for (let i = 0; i + 4 <= hex.length; i += 4) out += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return out;
}

export function isHex(s: string): boolean {
  return /^[0-9A-Fa-f]*$/.test(s) && s.length % 2 === 0;
}
