/** What every database driver of the SQL service gives: rows by position, bound values, its errors. */
export type SqlValue = string | number | null;

export interface SqlResult {
  /** Rows as arrays, in the order of the SELECT list (as Gammu reads them: by position). */
  rows: unknown[][];
  affectedRows: number;
}

export class SqlError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SqlError';
  }
}

export interface Driver {
  query(sql: string, params: readonly SqlValue[]): Promise<SqlResult>;
  /** An INSERT and the ID it generated. */
  insert(sql: string, params: readonly SqlValue[]): Promise<number>;
  close(): Promise<void>;
  broken: boolean;
}
