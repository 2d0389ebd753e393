/**
 * Gammu's query placeholders (gammu-smsd-sql(7)): `%I %S %P %N %O %M %A` (phone and message
 * wide), `%R %F %u %x %c %t %E %T %V %C %d %e` (per message part) and `%1`..`%9` (query-specific).
 * Gammu pastes quoted values into the text; we put a bind marker (`?` for MySQL, `$n` for
 * PostgreSQL) in their place and pass the values separately. `%%` stands for a literal `%`.
 */
import type { SqlDialect, SqlValue } from './connection.js';

/** Phone-wide values. */
export interface PhoneVars {
  imei: string;
  imsi: string;
  phoneId: string;
  /** Client string (`%N`). */
  client: string;
  netCode: string;
  netName: string;
  /** CreatorID of the message being sent (`%A`). */
  creatorId: string;
}

/** One message part, as Gammu's GSM_SMSMessage fields used by the placeholders. */
export interface PartVars {
  /** `%R`: remote number (destination or sender). */
  number: string;
  /** `%F`: SMSC number. */
  smsc: string;
  /** `%u`: UDH as hex, '' if none. */
  udhHex: string;
  /** `%x`: message class (-1 none). */
  messageClass: number;
  /** `%c`: Gammu's coding name. */
  coding: string;
  /** `%t`: TP-MR. */
  mr: number;
  /** `%E`: text as hex (UCS-2BE for text codings, bytes for 8bit). */
  textHex: string;
  /** `%T`: decoded text (UTF-8). */
  text: string;
  /** `%V`: relative validity (-1 none). */
  validity: number;
  /** `%C`: SMSC time stamp (report discharge time), formatted. */
  smscTime: string;
  /** `%d`: message time stamp, formatted. */
  dateTime: string;
  /** `%e`: delivery status (TP-Status) or -1. */
  deliveryStatus: number;
}

export interface ExpandContext {
  phone: PhoneVars;
  part?: PartVars;
  params?: readonly SqlValue[];
}

export interface BoundQuery {
  text: string;
  values: SqlValue[];
}

export class QueryTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryTemplateError';
  }
}

function partValue(c: string, p: PartVars): SqlValue {
  switch (c) {
    case 'R':
      return p.number;
    case 'F':
      return p.smsc;
    case 'u':
      return p.udhHex;
    case 'x':
      return p.messageClass;
    case 'c':
      return p.coding;
    case 't':
      return p.mr;
    case 'E':
      return p.textHex;
    case 'T':
      return p.text;
    case 'V':
      return p.validity;
    case 'C':
      return p.smscTime;
    case 'd':
      return p.dateTime;
    case 'e':
      return p.deliveryStatus;
    default:
      return undefined as never;
  }
}

const PART_CHARS = 'RFuxctETVCde';

/** Expands a query template; `name` is only used in error messages. */
export function expandQuery(
  template: string,
  dialect: SqlDialect,
  ctx: ExpandContext,
  name = 'query',
): BoundQuery {
  const values: SqlValue[] = [];
  let text = '';
  const bind = (v: SqlValue): void => {
    values.push(v);
    text += dialect === 'pgsql' ? `$${values.length}` : '?';
  };
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch !== '%') {
      text += ch;
      continue;
    }
    const c = template[i + 1];
    if (c === undefined) throw new QueryTemplateError(`[sql] ${name}: a lone % at the end of the query`);
    i++;
    if (c === '%') {
      text += '%';
      continue;
    }
    if (c >= '0' && c <= '9') {
      let j = i;
      while (j + 1 < template.length && /[0-9]/.test(template[j + 1] as string)) j++;
      const n = Number(template.slice(i, j + 1));
      i = j;
      const params = ctx.params ?? [];
      if (n < 1 || n > params.length)
        throw new QueryTemplateError(
          `[sql] ${name}: %${n} is not available in this query (it has ${params.length === 0 ? 'no numbered parameters' : `%1..%${params.length}`})`,
        );
      bind(params[n - 1] as SqlValue);
      continue;
    }
    switch (c) {
      case 'I':
        bind(ctx.phone.imei);
        continue;
      case 'S':
        bind(ctx.phone.imsi);
        continue;
      case 'P':
        bind(ctx.phone.phoneId);
        continue;
      case 'N':
        bind(ctx.phone.client);
        continue;
      case 'O':
        bind(ctx.phone.netCode);
        continue;
      case 'M':
        bind(ctx.phone.netName);
        continue;
      case 'A':
        bind(ctx.phone.creatorId);
        continue;
      default:
        break;
    }
    if (PART_CHARS.includes(c)) {
      if (!ctx.part)
        throw new QueryTemplateError(`[sql] ${name}: %${c} needs a message, and this query has none`);
      bind(partValue(c, ctx.part));
      continue;
    }
    throw new QueryTemplateError(`[sql] ${name}: unexpected placeholder %${c}`);
  }
  return { text, values };
}
