import crypto from 'node:crypto';

/**
 * The signature on our webhook calls (receipts and MO to an application's URL): an HMAC-SHA256
 * with the account's webhook secret over `<unix seconds>.<body>`, sent as
 * `X-Smsgate-Signature: t=<unix seconds>,v1=<hex>`. The time inside the signed text lets the
 * receiver refuse a replayed call (Stripe's scheme, so existing verifier code carries over).
 */
export const SIGNATURE_HEADER = 'X-Smsgate-Signature';

export function signWebhook(secret: string, body: string | Buffer, at = Date.now()): string {
  const t = Math.floor(at / 1000);
  const mac = crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${mac}`;
}

/** True when `header` signs `body` with `secret` and is at most `toleranceSec` old. */
export function verifyWebhook(
  secret: string,
  body: string | Buffer,
  header: string,
  toleranceSec = 300,
  now = Date.now(),
): boolean {
  const fields = new Map(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(fields.get('t'));
  const v1 = fields.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSec) return false;
  const want = crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  const got = Buffer.from(v1, 'hex');
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}
