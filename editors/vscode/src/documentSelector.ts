// The documents the server analyses: its languages, and their file patterns for when no
// extension provides the language (Terraform and HCL have none built in).

import type { DocumentSelector } from 'vscode-languageclient/node';

export const LANGUAGES = [
  'sql',
  'shellscript',
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'go',
  'rust',
  'terraform',
  'hcl',
  'yaml',
  'dockerfile',
] as const;

export const FILE_PATTERNS = [
  '**/*.{tf,tfvars,hcl,sql}',
  '**/{Dockerfile,Containerfile,*.dockerfile}',
  '**/*.{sh,bash}',
] as const;

export const DOCUMENT_SELECTOR: DocumentSelector = [
  ...LANGUAGES.map((language) => ({ scheme: 'file', language })),
  ...FILE_PATTERNS.map((pattern) => ({ scheme: 'file', pattern })),
];
