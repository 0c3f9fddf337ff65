// The server's `countersign.workspaceFindings` answer, checked, and how a finding reads in a
// quick pick. Pure.

export type FindingState = 'unsigned' | 'pending' | 'approved';

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

/** The diagnostic's `data`: what the sign-off commands take. */
export interface FindingRef {
  uri: string;
  fingerprint: string;
  rule: string;
  start?: LspPosition;
  reason?: string;
  [key: string]: unknown;
}

export interface Finding {
  uri: string;
  path: string;
  range: LspRange;
  rule: string;
  severity: string;
  message: string;
  snippet: string;
  state: FindingState;
  agent?: string;
  requestedBy?: string;
  reason?: string;
  approvedBy?: string;
  data: FindingRef;
}

export interface WorkspaceFindings {
  findings: Finding[];
  unsigned: number;
  pending: number;
  approved: number;
}

export interface StatusCounts {
  unsigned: number;
  pending: number;
  approved: number;
}

export const WORKSPACE_FINDINGS_COMMAND = 'countersign.workspaceFindings';
export const REQUEST_COMMAND = 'countersign.requestSignoff';
export const APPROVE_COMMAND = 'countersign.approveSignoff';
export const STATUS_NOTIFICATION = 'countersign/status';
export const AI_EDIT_NOTIFICATION = 'countersign/aiEdit';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPosition(value: unknown): value is LspPosition {
  return isObject(value) && typeof value.line === 'number' && typeof value.character === 'number';
}

function isRange(value: unknown): value is LspRange {
  return isObject(value) && isPosition(value.start) && isPosition(value.end);
}

export function isFindingRef(value: unknown): value is FindingRef {
  return (
    isObject(value) &&
    typeof value.uri === 'string' &&
    typeof value.fingerprint === 'string' &&
    typeof value.rule === 'string'
  );
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
}

export function parseStatus(value: unknown): StatusCounts | null {
  if (!isObject(value)) {
    return null;
  }
  return { unsigned: count(value.unsigned), pending: count(value.pending), approved: count(value.approved) };
}

/** Keeps the well-formed findings; a malformed one is dropped rather than failing the list. */
export function parseWorkspaceFindings(value: unknown): WorkspaceFindings {
  const result: WorkspaceFindings = { findings: [], unsigned: 0, pending: 0, approved: 0 };
  if (!isObject(value)) {
    return result;
  }
  Object.assign(result, parseStatus(value));
  const list = Array.isArray(value.findings) ? value.findings : [];
  for (const item of list) {
    if (!isObject(item) || !isRange(item.range) || !isFindingRef(item.data)) {
      continue;
    }
    const state = item.state;
    if (state !== 'unsigned' && state !== 'pending' && state !== 'approved') {
      continue;
    }
    result.findings.push({
      uri: typeof item.uri === 'string' ? item.uri : item.data.uri,
      path: optionalString(item.path) ?? item.data.uri,
      range: item.range,
      rule: optionalString(item.rule) ?? item.data.rule,
      severity: optionalString(item.severity) ?? 'error',
      message: typeof item.message === 'string' ? item.message : '',
      snippet: typeof item.snippet === 'string' ? item.snippet : '',
      state,
      agent: optionalString(item.agent),
      requestedBy: optionalString(item.requestedBy),
      reason: optionalString(item.reason),
      approvedBy: optionalString(item.approvedBy),
      data: item.data,
    });
  }
  return result;
}

export interface PickText {
  label: string;
  description: string;
  detail: string;
}

/** Rule first, where it is (1-based line, as editors show it), then why it is listed. */
export function pickText(finding: Finding): PickText {
  const where = `${finding.path}:${finding.range.start.line + 1}`;
  const snippet = finding.snippet.trim().split('\n')[0] ?? '';
  let detail: string;
  switch (finding.state) {
    case 'pending': {
      const who = finding.requestedBy ? `requested by ${finding.requestedBy}` : 'requested';
      detail = finding.reason ? `${who}: ${finding.reason}` : `${who}, no reason given`;
      break;
    }
    case 'approved':
      detail = finding.approvedBy ? `approved by ${finding.approvedBy}` : 'approved';
      break;
    case 'unsigned':
      detail = finding.agent ? `written by ${finding.agent}: ${finding.message}` : finding.message;
      break;
  }
  return { label: `${finding.rule}  ${where}`, description: snippet, detail };
}

/** The request arguments with the requester's reason, or `null` when there is no reason. */
export function withReason(data: FindingRef, reason: string | undefined): FindingRef | null {
  const trimmed = reason?.trim() ?? '';
  return trimmed === '' ? null : { ...data, reason: trimmed };
}
