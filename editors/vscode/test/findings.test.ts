import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatus, parseWorkspaceFindings, pickText, withReason } from '../src/findings';

const data = { uri: 'file:///repo/db/001.sql', fingerprint: 'abc123', rule: 'sql/drop-table' };
const range = { start: { line: 2, character: 0 }, end: { line: 2, character: 17 } };

function finding(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    uri: data.uri,
    path: 'db/001.sql',
    range,
    rule: 'sql/drop-table',
    severity: 'error',
    message: 'DROP TABLE written by an AI needs senior sign-off',
    snippet: 'DROP TABLE users;\nmore',
    state: 'unsigned',
    data,
    ...extra,
  };
}

describe('workspace findings from the server', () => {
  it('well-formed findings and the counts are kept', () => {
    const parsed = parseWorkspaceFindings({
      findings: [finding({ agent: 'copilot' }), finding({ state: 'pending', requestedBy: 'ana' })],
      unsigned: 1,
      pending: 1,
      approved: 4,
    });
    assert.equal(parsed.findings.length, 2);
    assert.deepEqual([parsed.unsigned, parsed.pending, parsed.approved], [1, 1, 4]);
    assert.equal(parsed.findings[0]?.agent, 'copilot');
    assert.deepEqual(parsed.findings[1]?.data, data);
  });

  it('malformed findings are dropped, not fatal', () => {
    const parsed = parseWorkspaceFindings({
      findings: [finding({ range: null }), finding({ state: 'weird' }), finding({ data: {} }), 7],
    });
    assert.deepEqual(parsed.findings, []);
    assert.deepEqual(parseWorkspaceFindings(null).findings, []);
  });

  it('status counts ignore junk', () => {
    assert.deepEqual(parseStatus({ unsigned: 3, pending: -1, approved: 'x' }), {
      unsigned: 3,
      pending: 0,
      approved: 0,
    });
    assert.equal(parseStatus('nope'), null);
  });
});

describe('quick pick text', () => {
  it('rule and 1-based path:line first, the snippet line beside it', () => {
    const [parsed] = parseWorkspaceFindings({ findings: [finding({ agent: 'copilot' })] }).findings;
    assert.ok(parsed);
    assert.deepEqual(pickText(parsed), {
      label: 'sql/drop-table  db/001.sql:3',
      description: 'DROP TABLE users;',
      detail: 'written by copilot: DROP TABLE written by an AI needs senior sign-off',
    });
  });

  it('a pending finding shows who asked and why', () => {
    const [parsed] = parseWorkspaceFindings({
      findings: [finding({ state: 'pending', requestedBy: 'ana', reason: 'table unused since 0042' })],
    }).findings;
    assert.ok(parsed);
    assert.equal(pickText(parsed).detail, 'requested by ana: table unused since 0042');
  });
});

describe('the reason added to a request', () => {
  it('is trimmed and added to the finding data', () => {
    assert.deepEqual(withReason(data, '  migrated in 0042 \n'), { ...data, reason: 'migrated in 0042' });
  });

  it('empty or cancelled means no request', () => {
    assert.equal(withReason(data, undefined), null);
    assert.equal(withReason(data, '   '), null);
  });
});
