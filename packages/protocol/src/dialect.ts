/** A connection's dialect is fixed by its first bytes, as Redis tells RESP from inline commands. */

export type Dialect = 'binary' | 'text' | 'http';

/** The HTTP methods that select the HTTP dialect when followed by a space. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const;

const METHOD_PREFIXES = HTTP_METHODS.map((method) => Buffer.from(`${method} `, 'latin1'));

/** Longest prefix needed to decide: `OPTIONS `. */
export const SNIFF_BYTES = Math.max(...METHOD_PREFIXES.map((prefix) => prefix.length));

/**
 * Decides the dialect from the first bytes received, or `undefined` while they are
 * still a prefix of an HTTP method and a space (a person typing `GE` might go on to `GET `).
 */
export function sniffDialect(firstBytes: Uint8Array): Dialect | undefined {
  if (firstBytes.length === 0) return undefined;
  if (firstBytes[0] === 0x00) return 'binary';
  let undecided = false;
  for (const prefix of METHOD_PREFIXES) {
    const n = Math.min(prefix.length, firstBytes.length);
    let matches = true;
    for (let i = 0; i < n; i++) {
      if (firstBytes[i] !== prefix[i]) {
        matches = false;
        break;
      }
    }
    if (!matches) continue;
    if (firstBytes.length >= prefix.length) return 'http';
    undecided = true;
  }
  return undecided ? undefined : 'text';
}
