-- Countersign language server: flags risky AI-written code and offers "Request senior
-- sign-off" code actions. Used by Neovim 0.11+ through
--
--   vim.lsp.enable('countersign')
--
-- once this directory's parent (editors/nvim) is on 'runtimepath', or through
-- require('countersign').setup{} (which also works on 0.10). Override any field with
-- vim.lsp.config('countersign', { ... }), e.g. `cmd` when the binary is not on $PATH, or
-- `settings = { countersign = { humanSeverity = 'warning' } }`. This file stands alone: it can be
-- copied into ~/.config/nvim/lsp/ without the rest of the plugin.

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
  -- The user's own view of findings (humanSeverity, heuristics, agent); unset keys fall back to
  -- the repository's countersign.toml. Neovim sends them in workspace/didChangeConfiguration
  -- after initialization and whenever the client's settings change.
  settings = { countersign = vim.empty_dict() },
  -- The server reads the same settings at startup, so the first diagnostics already honour them.
  before_init = function(params, config)
    local s = vim.tbl_get(config, 'settings', 'countersign')
    if s ~= nil and params.initializationOptions == nil then
      params.initializationOptions = s
    end
  end,
}
