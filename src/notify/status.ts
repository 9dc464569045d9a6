/** The states a deploy notification can report, and how each one looks in Slack. */
export const STATUSES = ['started', 'success', 'failure', 'rolled-back', 'approval-needed', 'info'] as const;

export type NotifyStatus = (typeof STATUSES)[number];

export interface StatusLook {
  /** Shown in the header and the plain-text fallback (Unicode, so phones and the job summary show it too). */
  readonly emoji: string;
  /** The colour bar of the message's details. */
  readonly color: string;
}

export const STATUS_LOOK: Readonly<Record<NotifyStatus, StatusLook>> = {
  started: { emoji: '🚀', color: '#1D9BD1' },
  success: { emoji: '✅', color: '#2EB67D' },
  failure: { emoji: '❌', color: '#E01E5A' },
  'rolled-back': { emoji: '↩️', color: '#E8912D' },
  'approval-needed': { emoji: '⏳', color: '#ECB22E' },
  info: { emoji: 'ℹ️', color: '#868686' },
};

/** Statuses that end a deploy: their message shows how long it took, and the mention. */
export function isOutcome(status: NotifyStatus): boolean {
  return status === 'success' || status === 'failure' || status === 'rolled-back';
}

/** Statuses that call people in (the `mention` input). */
export function wantsMention(status: NotifyStatus): boolean {
  return status === 'failure' || status === 'rolled-back';
}
