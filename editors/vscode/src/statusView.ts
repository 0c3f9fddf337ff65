// What the status bar item shows for the server's state and the workspace counts. Pure.

import type { StatusCounts } from './findings';

export type ServerState = 'starting' | 'running' | 'stopped' | 'missing';

export interface StatusView {
  text: string;
  tooltip: string;
  background: 'warning' | 'error' | null;
  /** The command a click runs. */
  command: string;
}

export function statusView(state: ServerState, counts: StatusCounts | null): StatusView {
  switch (state) {
    case 'starting':
      return {
        text: '$(loading~spin) Countersign',
        tooltip: 'Countersign: starting the server',
        background: null,
        command: 'countersign.showOutput',
      };
    case 'stopped':
      return {
        text: '$(error) Countersign',
        tooltip: 'Countersign: the server is not running. Click for its output.',
        background: 'error',
        command: 'countersign.showOutput',
      };
    case 'missing':
      return {
        text: '$(error) Countersign',
        tooltip: 'Countersign: no server binary found. Click for details.',
        background: 'error',
        command: 'countersign.showOutput',
      };
    case 'running':
      break;
  }
  if (counts === null) {
    return {
      text: '$(shield) Countersign',
      tooltip: 'Countersign: running',
      background: null,
      command: 'countersign.showUnsigned',
    };
  }
  const tooltip =
    `Countersign: ${counts.unsigned} unsigned, ${counts.pending} pending, ` +
    `${counts.approved} approved sign-off${counts.approved === 1 ? '' : 's'} in AI-written code`;
  return counts.unsigned > 0
    ? {
        text: `$(shield) ${counts.unsigned} unsigned`,
        tooltip: `${tooltip}. Click to list the unsigned findings.`,
        background: 'warning',
        command: 'countersign.showUnsigned',
      }
    : { text: '$(shield) Countersign', tooltip, background: null, command: 'countersign.showUnsigned' };
}
