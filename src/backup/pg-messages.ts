/**
 * What PostgreSQL's tools print when they fail, made fit for a public log.
 *
 * The server's error reports carry rows of the database: `DETAIL:  Key (email)=(alice@example.com)
 * already exists.`, `DETAIL:  Failing row contains (...)`, `CONTEXT:  COPY customers, line 1,
 * column email: "..."`, and a value with a newline in it goes on over lines of its own. Logs and
 * job summaries of a public repository are public, so only the lines that say what failed are
 * kept: the tools' own message lines (`pg_restore: error: COPY failed for table "customers":
 * ERROR:  duplicate key value ...`) and the server's severity and hint lines (`ERROR:`, `FATAL:`,
 * `PANIC:`, `WARNING:`, `HINT:`). Every other line (DETAIL, CONTEXT, LINE, QUERY, a value's
 * continuation, a field in another language) is withheld and counted, unless the user asked for
 * row data (`show-row-data`).
 */

const TOOL_LINE = /^(?:pg_dump|pg_dumpall|pg_restore|psql|createdb|dropdb)[:\s]/;
const SAYS_WHAT_FAILED = /^(?:ERROR|FATAL|PANIC|WARNING|HINT):/;

export const ROW_DATA_HINT = "'show-row-data: true' prints them";

/** `text` without the lines that can hold row data, and a note of how many were left out. */
export function withoutRowData(text: string): string {
  const kept: string[] = [];
  let withheld = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || TOOL_LINE.test(line) || SAYS_WHAT_FAILED.test(line)) kept.push(line);
    else withheld += 1;
  }
  if (withheld > 0) kept.push(`(${withheld} more line${withheld === 1 ? '' : 's'} withheld: they can hold row data; ${ROW_DATA_HINT})`);
  return kept.join('\n');
}

/** The output of a PostgreSQL tool as it may be shown: whole when `showRowData`, else without the lines that can hold rows. */
export const pgOutput = (text: string, showRowData: boolean): string => (showRowData ? text : withoutRowData(text));
