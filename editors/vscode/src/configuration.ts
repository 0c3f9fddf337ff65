// Reads the `countersign` section of VS Code's configuration through the pure settings module.

import * as vscode from 'vscode';
import { readSettings, SECTION, type ExtensionSettings } from './settings';

export function currentSettings(): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  return readSettings({
    get: (key) => config.get(key),
    isSet: (key) => {
      const info = config.inspect(key);
      return (
        info !== undefined &&
        [info.globalValue, info.workspaceValue, info.workspaceFolderValue].some(
          (value) => value !== undefined,
        )
      );
    },
  });
}
