/** The contract's file-name rule, checked before anything is sent or written, so a bad name never reaches the disk or the wire. */

const FILE_NAME = /^[A-Za-z0-9._-]{1,255}$/;

/** Why `name` is not a plain file name the server serves, or `undefined` when it is one. */
export function fileNameProblem(name: string): string | undefined {
  if (name === '.' || name === '..' || !FILE_NAME.test(name)) {
    return `${JSON.stringify(name)} is not a plain file name: 1-255 characters of A-Z a-z 0-9 . _ -, not . or .., no /`;
  }
  return undefined;
}
