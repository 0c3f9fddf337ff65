import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentName, guessAgent } from '../src/agent';

describe('naming the agent', () => {
  it('the setting wins', () => {
    assert.equal(agentName('aider', [{ id: 'GitHub.copilot', isActive: true }]), 'aider');
  });

  it('known extensions map to the names the ledger uses, ids compared case-insensitively', () => {
    assert.equal(guessAgent([{ id: 'GitHub.copilot-chat', isActive: false }]), 'copilot');
    assert.equal(guessAgent([{ id: 'github.copilot', isActive: false }]), 'copilot');
    assert.equal(guessAgent([{ id: 'Continue.continue', isActive: false }]), 'continue');
    assert.equal(guessAgent([{ id: 'saoudrizwan.claude-dev', isActive: false }]), 'cline');
    assert.equal(guessAgent([{ id: 'Anthropic.claude-code', isActive: false }]), 'claude-code');
  });

  it('an active agent extension wins over one that is only installed', () => {
    const extensions = [
      { id: 'GitHub.copilot', isActive: false },
      { id: 'vscode.git', isActive: true },
      { id: 'Continue.continue', isActive: true },
    ];
    assert.equal(guessAgent(extensions), 'continue');
  });

  it('without any known agent extension the name is "assistant"', () => {
    assert.equal(guessAgent([{ id: 'ms-python.python', isActive: true }]), 'assistant');
    assert.equal(agentName(null, []), 'assistant');
  });
});
