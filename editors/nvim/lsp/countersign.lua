-- Countersign language server: flags risky AI-written code and offers "Request senior
-- sign-off" code actions. Used by Neovim 0.11+ through
--
--   vim.lsp.enable('countersign')
--
-- once this directory's parent (editors/nvim) is on 'runtimepath'. Override any field with
-- vim.lsp.config('countersign', { ... }), e.g. `cmd` when the binary is not on $PATH.

---@type vim.lsp.Config
return {
  cmd = { 'countersign', 'lsp' },
  filetypes = {
    'sql',
    'sh',
    'bash',
    'zsh',
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
  },
  -- The repository root: sign-off requests go to <root>/.countersign/signoffs/.
  root_markers = { '.git', '.countersign', 'countersign.toml' },
}
