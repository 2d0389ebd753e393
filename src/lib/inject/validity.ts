/** gammu-smsd-inject's `-validity` words and the relative TP-VP octets they stand for. */
export const VALIDITY: Readonly<Record<string, number>> = {
  HOUR: 0x0b,
  '6HOURS': 0x47,
  DAY: 0xa7,
  '3DAYS': 0xa9,
  WEEK: 0xad,
  MAX: 0xff,
};
