-- Countersign for Neovim: starts the language server (vim.lsp.config/enable on 0.11+, a
-- FileType autocmd with vim.lsp.start on 0.10), keeps its settings in one place, and gives the
-- commands and attribution hooks one way to reach the server.

local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

M.name = 'countersign'

--- The plugin's root (…/editors/nvim), found from this file so it works from any install.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:gsub('^@', ''), ':p:h:h:h')

--- The shipped server config (lsp/countersign.lua): the one list of filetypes and root markers.
local function shipped()
  return dofile(root .. '/lsp/countersign.lua')
end

---@class countersign.Attribution
---@field copilot_lua? boolean   wrap require('copilot.suggestion').accept*
---@field copilot_vim? boolean   wrap copilot#TextQueuedForInsertion()
---@field avante? boolean        User AvanteEditingInputStartSpinner/StopSpinner
---@field codecompanion? boolean User CodeCompanion{Inline,Tool,Tools,Agent}{Started,Finished}

---@class countersign.Options
---@field cmd? string[]
---@field filetypes? string[]
---@field root_markers? string[]
---@field settings? table  humanSeverity, heuristics = { bulkInsert, multiHunk }, agent
---@field attribution? countersign.Attribution|false
---@field on_attach? fun(client: vim.lsp.Client, bufnr: integer)
---@field capabilities? table
---@field cmd_env? table<string, string>

---@return countersign.Options
local function defaults()
  return {
    settings = {},
    attribution = { copilot_lua = true, copilot_vim = true, avante = true, codecompanion = true },
  }
end

---@type countersign.Options
M.options = defaults()

---@type table<integer, {unsigned: integer, pending: integer, approved: integer}>
local status_by_client = {}

--- `countersign/status`: the workspace's counts, kept for statuslines, announced with
--- `User CountersignStatus`.
local function on_status(_, params, ctx)
  status_by_client[ctx.client_id] = params
  vim.api.nvim_exec_autocmds('User', { pattern = 'CountersignStatus', data = { client_id = ctx.client_id, status = params }, modeline = false })
end

--- The counts the server last sent for `bufnr`'s workspace (or any), or nil.
---@param bufnr? integer
---@return {unsigned: integer, pending: integer, approved: integer}?
function M.status(bufnr)
  for _, c in ipairs(M.clients(bufnr or vim.api.nvim_get_current_buf())) do
    if status_by_client[c.id] then
      return status_by_client[c.id]
    end
  end
end

--- A short statusline text: "CS 2! 1…" (unsigned, pending); empty when all is signed off.
function M.statusline(bufnr)
  local s = M.status(bufnr)
  if not s or (s.unsigned or 0) + (s.pending or 0) == 0 then
    return ''
  end
  return ('CS %d! %d…'):format(s.unsigned or 0, s.pending or 0)
end

--- The client config both start paths use.
---@param opts countersign.Options
local function client_config(opts)
  local base = shipped()
  local config = vim.tbl_extend('force', base, {
    name = M.name,
    cmd = opts.cmd or base.cmd,
    filetypes = opts.filetypes or base.filetypes,
    root_markers = opts.root_markers or base.root_markers,
    settings = { countersign = next(opts.settings or {}) and opts.settings or vim.empty_dict() },
    on_attach = opts.on_attach,
    capabilities = opts.capabilities,
    cmd_env = opts.cmd_env,
    handlers = { ['countersign/status'] = on_status },
  })
  return config
end

--- Clients of the server, those attached to `bufnr` first.
---@param bufnr? integer
---@return vim.lsp.Client[]
function M.clients(bufnr)
  local list = {}
  if bufnr then
    list = vim.lsp.get_clients({ bufnr = bufnr, name = M.name })
  end
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    if not vim.list_contains(list, c) then
      list[#list + 1] = c
    end
  end
  return list
end

--- The client for `bufnr` (or any running one); nil with a message when none runs.
---@param bufnr? integer
---@param quiet? boolean
function M.client(bufnr, quiet)
  local c = M.clients(bufnr)[1]
  if not c and not quiet then
    vim.notify('Countersign: the language server is not running (:checkhealth countersign)', vim.log.levels.WARN)
  end
  return c
end

--- Sends a request; the same call on 0.10 (client.request) and 0.11+ (client:request).
function M.request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Runs a server command with workspace/executeCommand. Deliberately not Client:exec_cmd: that
--- calls our own vim.lsp.commands handler for countersign.requestSignoff instead of the server.
---@param cb? fun(err: table?, result: any)
function M.execute(client, command, arguments, cb, bufnr)
  return M.request(client, 'workspace/executeCommand', { command = command, arguments = arguments }, function(err, result)
    if err then
      vim.notify(('Countersign: %s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
    if cb then
      cb(err, result)
    end
  end, bufnr)
end

--- Replaces the user settings of every running client and tells the servers.
---@param settings table
function M.set_settings(settings)
  M.options.settings = settings
  local payload = { countersign = next(settings) and settings or vim.empty_dict() }
  if has_011 and vim.lsp.config and M.configured then
    vim.lsp.config[M.name] = client_config(M.options)
  end
  for _, c in ipairs(M.clients()) do
    c.settings = payload
    M.notify(c, 'workspace/didChangeConfiguration', { settings = payload })
  end
end

--- Starts (or reuses) the server for `bufnr` without vim.lsp.config: the 0.10 path.
local function start_for(bufnr, config)
  if vim.bo[bufnr].buftype ~= '' then
    return
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return
  end
  local root_dir = vim.fs.root(bufnr, config.root_markers) or vim.fs.dirname(name)
  local start = vim.tbl_extend('force', config, { root_dir = root_dir })
  start.filetypes, start.root_markers = nil, nil
  vim.lsp.start(start, { bufnr = bufnr })
end

local augroup = vim.api.nvim_create_augroup('countersign', { clear = true })

--- Configures and enables the server, the command handlers and the attribution hooks.
---@param opts? countersign.Options
function M.setup(opts)
  opts = opts or {}
  M.options = vim.tbl_deep_extend('force', defaults(), opts)
  if opts.attribution == false then
    M.options.attribution = false
  end
  local config = client_config(M.options)
  require('countersign.commands').register_handlers()

  vim.api.nvim_clear_autocmds({ group = augroup })
  -- `_autocmd` forces the 0.10 path on newer Neovim too, so that path stays tested.
  if has_011 and vim.lsp.config and not opts._autocmd then
    -- Assigned, not merged: calling setup again must not keep options from the last call.
    vim.lsp.config[M.name] = config
    M.configured = true
    vim.lsp.enable(M.name)
  else
    vim.api.nvim_create_autocmd('FileType', {
      group = augroup,
      pattern = config.filetypes,
      callback = function(args)
        start_for(args.buf, config)
      end,
    })
    -- Buffers already open when setup runs (lazy-loaded plugin).
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and vim.list_contains(config.filetypes, vim.bo[buf].filetype) then
        start_for(buf, config)
      end
    end
  end

  require('countersign.attribution').setup(M.options.attribution)
end

--- Stops what setup started (used by tests and by users switching configs).
function M.disable()
  vim.api.nvim_clear_autocmds({ group = augroup })
  if has_011 and vim.lsp.enable then
    vim.lsp.enable(M.name, false)
  end
  require('countersign.attribution').setup(false)
end

return M
