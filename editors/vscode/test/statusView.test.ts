import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusView } from '../src/statusView';

describe('status bar', () => {
  it('unsigned findings: the count, a warning background, a click lists them', () => {
    const view = statusView('running', { unsigned: 2, pending: 1, approved: 1 });
    assert.equal(view.text, '$(shield) 2 unsigned');
    assert.equal(view.background, 'warning');
    assert.equal(view.command, 'countersign.showUnsigned');
    assert.match(view.tooltip, /2 unsigned, 1 pending, 1 approved sign-off in/);
  });

  it('nothing unsigned: a quiet shield', () => {
    const view = statusView('running', { unsigned: 0, pending: 3, approved: 0 });
    assert.equal(view.text, '$(shield) Countersign');
    assert.equal(view.background, null);
  });

  it('starting spins; stopped and missing are errors that open the output', () => {
    assert.match(statusView('starting', null).text, /loading~spin/);
    for (const state of ['stopped', 'missing'] as const) {
      const view = statusView(state, { unsigned: 5, pending: 0, approved: 0 });
      assert.equal(view.background, 'error');
      assert.equal(view.command, 'countersign.showOutput');
    }
  });
});
