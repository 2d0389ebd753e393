/** Gammu writes hex in upper case; UCS-2BE for text codings. */
export function utf16beHex(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
  return out;
}

export function hexToUtf16be(hex: string): string {
  let out = '';
  for (let i = 0; i + 4 <= hex.length; i += 4) out += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return out;
}

export function isHex(s: string): boolean {
  return /^[0-9A-Fa-f]*$/.test(s) && s.length % 2 === 0;
}
