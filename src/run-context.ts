/** Where a run came from, for the ledger, the lock and the summary. */
export interface RunContext {
  readonly actor: string;
  readonly commit: string;
  /** The workflow run's URL, or `local` outside GitHub Actions. */
  readonly runUrl: string;
}
