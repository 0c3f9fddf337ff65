// Reads the `countersign.*` settings and maps them to what the server and its process need.
// Pure (no `vscode` import): a setting the user did not set is left out of the server settings,
// so the repository's countersign.toml decides it.

export const SECTION = 'countersign';

export type HumanSeverity = 'off' | 'hint' | 'information' | 'warning' | 'error';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

const HUMAN_SEVERITIES: readonly HumanSeverity[] = ['off', 'hint', 'information', 'warning', 'error'];
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

/** Where settings come from: VS Code's configuration in the extension, a map in tests. */
export interface SettingSource {
  /** The effective value (user, workspace or default), `undefined` when there is none. */
  get(key: string): unknown;
  /** Whether the user or the workspace set the key (a default does not count). */
  isSet(key: string): boolean;
}

export interface ExtensionSettings {
  serverPath: string | null;
  logLevel: LogLevel;
  extraEnv: Record<string, string>;
  humanSeverity: HumanSeverity | null;
  /** `null`: not set by the user. */
  bulkInsert: boolean | null;
  multiHunk: boolean | null;
  agent: string | null;
  attributionEnabled: boolean;
}

/** The shape the server reads from `initializationOptions` and `settings.countersign`. */
export interface ServerSettings {
  humanSeverity?: HumanSeverity;
  heuristics?: { bulkInsert?: boolean; multiHunk?: boolean };
  agent?: string;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function explicitBoolean(source: SettingSource, key: string): boolean | null {
  const value = source.get(key);
  return source.isSet(key) && typeof value === 'boolean' ? value : null;
}

export function readSettings(source: SettingSource): ExtensionSettings {
  const severity = source.get('humanSeverity');
  const logLevel = source.get('server.logLevel');
  const extraEnv: Record<string, string> = {};
  const rawEnv = source.get('server.extraEnv');
  if (rawEnv !== null && typeof rawEnv === 'object') {
    for (const [name, value] of Object.entries(rawEnv as Record<string, unknown>)) {
      // Environment values must be strings; numbers and booleans are what users mean literally.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        extraEnv[name] = String(value);
      }
    }
  }
  return {
    serverPath: nonEmptyString(source.get('server.path')),
    logLevel: LOG_LEVELS.includes(logLevel as LogLevel) ? (logLevel as LogLevel) : 'info',
    extraEnv,
    humanSeverity: HUMAN_SEVERITIES.includes(severity as HumanSeverity)
      ? (severity as HumanSeverity)
      : null,
    bulkInsert: explicitBoolean(source, 'heuristics.bulkInsert'),
    multiHunk: explicitBoolean(source, 'heuristics.multiHunk'),
    agent: nonEmptyString(source.get('agent')),
    attributionEnabled: source.get('attribution.enabled') !== false,
  };
}

export function serverSettings(settings: ExtensionSettings): ServerSettings {
  const result: ServerSettings = {};
  if (settings.humanSeverity !== null) {
    result.humanSeverity = settings.humanSeverity;
  }
  const heuristics: NonNullable<ServerSettings['heuristics']> = {};
  if (settings.bulkInsert !== null) {
    heuristics.bulkInsert = settings.bulkInsert;
  }
  if (settings.multiHunk !== null) {
    heuristics.multiHunk = settings.multiHunk;
  }
  if (Object.keys(heuristics).length > 0) {
    result.heuristics = heuristics;
  }
  if (settings.agent !== null) {
    result.agent = settings.agent;
  }
  return result;
}

/** The `workspace/didChangeConfiguration` params the server expects. */
export function didChangeConfigurationParams(settings: ExtensionSettings): {
  settings: { countersign: ServerSettings };
} {
  return { settings: { countersign: serverSettings(settings) } };
}

/** The server's environment: ours, the user's extra variables, then the log level. */
export function serverEnvironment(
  settings: ExtensionSettings,
  base: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) {
      env[name] = value;
    }
  }
  Object.assign(env, settings.extraEnv);
  // An explicit COUNTERSIGN_LOG in extraEnv wins: it can carry per-module filters.
  if (!('COUNTERSIGN_LOG' in settings.extraEnv)) {
    env.COUNTERSIGN_LOG = settings.logLevel;
  }
  return env;
}

/** Settings whose change needs a new server process rather than a notification. */
export const RESTART_KEYS = ['server.path', 'server.logLevel', 'server.extraEnv'] as const;
