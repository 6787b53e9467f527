/** What every check returns: a verdict, the cell it shows in docs/reliability.md, and the figures behind it. */
export interface CheckResult {
  readonly pass: boolean;
  /** Short, for the table. */
  readonly cell: string;
  readonly details: Readonly<Record<string, number | string | boolean>>;
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** A check that could not run (the app has no such unit, say): neither pass nor fail in the table. */
export const notApplicable = (why: string): CheckResult => ({ pass: true, cell: `n/a (${why})`, details: { applicable: false } });
