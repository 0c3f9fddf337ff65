// Names the AI agent behind edits this extension detects: the `countersign.agent` setting,
// else the AI extension installed here (an active one first), else "assistant". Pure.

export interface InstalledExtension {
  id: string;
  isActive: boolean;
}

/** Extension ids (lower case) and the agent name the server and the ledger use for them. */
export const KNOWN_AGENTS: readonly (readonly [string, string])[] = [
  ['github.copilot-chat', 'copilot'],
  ['github.copilot', 'copilot'],
  ['anthropic.claude-code', 'claude-code'],
  ['saoudrizwan.claude-dev', 'cline'],
  ['continue.continue', 'continue'],
];

export const FALLBACK_AGENT = 'assistant';

export function guessAgent(extensions: readonly InstalledExtension[]): string {
  const byId = new Map(extensions.map((ext) => [ext.id.toLowerCase(), ext]));
  const known = KNOWN_AGENTS.filter(([id]) => byId.has(id));
  const active = known.find(([id]) => byId.get(id)?.isActive === true);
  return (active ?? known[0])?.[1] ?? FALLBACK_AGENT;
}

export function agentName(setting: string | null, extensions: readonly InstalledExtension[]): string {
  return setting ?? guessAgent(extensions);
}
