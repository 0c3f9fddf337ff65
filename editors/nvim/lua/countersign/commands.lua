-- The :Countersign subcommands and the client-side handler of countersign.requestSignoff.
-- Everything that changes the ledger goes through the server (workspace/executeCommand), so the
-- editor and the CLI write the same files the same way.

local countersign = require('countersign')

local M = {}

local levels = vim.log.levels
local REQUEST = 'countersign.requestSignoff'
local APPROVE = 'countersign.approveSignoff'
local FINDINGS = 'countersign.workspaceFindings'

local function info(msg)
  vim.notify('Countersign: ' .. msg, levels.INFO)
end

local function warn(msg)
  vim.notify('Countersign: ' .. msg, levels.WARN)
end

--- Asks why the code is right; calls `done(reason)` only with a non-empty answer.
local function ask_reason(what, done)
  vim.ui.input({ prompt = ('Sign-off for %s: why is this code right? '):format(what) }, function(answer)
    answer = answer and vim.trim(answer) or ''
    if answer == '' then
      info('sign-off request cancelled')
      return
    end
    done(answer)
  end)
end

--- Sends the request for `data` (a diagnostic's FindingRef) with the reason the user gives.
---@param on_done? fun(err: table?, result: table?)
function M.request_signoff(client, data, bufnr, on_done)
  ask_reason(data.rule or 'this code', function(reason)
    local args = vim.tbl_extend('force', data, { reason = reason })
    -- The server reports the outcome itself (window/showMessage).
    countersign.execute(client, REQUEST, { args }, function(err, result)
      if on_done then
        on_done(err, result)
      end
    end, bufnr)
  end)
end

--- Neovim runs vim.lsp.commands[name] instead of sending executeCommand when a code action
--- names that command, so the server's "Request senior sign-off" action lands here and asks
--- for the reason before sending the request itself.
function M.register_handlers()
  vim.lsp.commands[REQUEST] = function(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id) or countersign.client(ctx.bufnr)
    local data = (command.arguments or {})[1]
    if not client or type(data) ~= 'table' then
      warn('no finding to request a sign-off for')
      return
    end
    M.request_signoff(client, data, ctx.bufnr)
  end
end

--- The workspace's findings in one sign-off state, from the server.
---@param cb fun(findings: table[], client: vim.lsp.Client)
local function findings(state, bufnr, cb)
  local client = countersign.client(bufnr)
  if not client then
    return
  end
  countersign.execute(client, FINDINGS, { { state = state } }, function(err, result)
    if err or type(result) ~= 'table' then
      return
    end
    cb(result.findings or {}, client)
  end, bufnr)
end

local function describe(f)
  local line = vim.tbl_get(f, 'range', 'start', 'line')
  local parts = { ('%s:%d'):format(f.path or vim.uri_to_fname(f.uri), (line or 0) + 1), f.rule }
  parts[#parts + 1] = f.snippet or f.message
  if f.requestedBy then
    parts[#parts + 1] = '(requested by ' .. f.requestedBy .. ')'
  end
  if f.reason then
    parts[#parts + 1] = '— ' .. f.reason
  end
  return table.concat(parts, '  ')
end

--- The Countersign diagnostic under the cursor that still needs a request, if any.
local function finding_at_cursor(bufnr)
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  row = row - 1
  local best
  for _, d in ipairs(vim.diagnostic.get(bufnr, { lnum = row })) do
    local data = vim.tbl_get(d, 'user_data', 'lsp', 'data')
    if d.source == 'countersign' and data and not vim.startswith(d.message or '', 'Sign-off pending') then
      local inside = col >= d.col and (d.end_lnum > row or col < math.max(d.end_col, d.col + 1))
      if inside or not best then
        best = data
      end
      if inside then
        break
      end
    end
  end
  return best
end

function M.request()
  local bufnr = vim.api.nvim_get_current_buf()
  local data = finding_at_cursor(bufnr)
  if data then
    local client = countersign.client(bufnr)
    if client then
      M.request_signoff(client, data, bufnr)
    end
    return
  end
  findings('unsigned', bufnr, function(list, client)
    if #list == 0 then
      info('no risky AI-written code waits for a sign-off request')
      return
    end
    vim.ui.select(list, { prompt = 'Request a senior sign-off for:', format_item = describe }, function(choice)
      if choice then
        M.request_signoff(client, choice.data, bufnr)
      end
    end)
  end)
end

function M.approve()
  local bufnr = vim.api.nvim_get_current_buf()
  findings('pending', bufnr, function(list, client)
    if #list == 0 then
      info('no sign-off request is pending')
      return
    end
    vim.ui.select(list, { prompt = 'Approve (signs with your SSH key):', format_item = describe }, function(choice)
      if not choice then
        return
      end
      countersign.execute(client, APPROVE, { choice.data }, nil, bufnr)
    end)
  end)
end

--- Pending requests into the quickfix list (`:cnext` walks them; Enter jumps to the code).
function M.pending()
  local bufnr = vim.api.nvim_get_current_buf()
  findings('pending', bufnr, function(list, client)
    local items = {}
    for _, f in ipairs(list) do
      local item = vim.lsp.util.locations_to_items({ { uri = f.uri, range = f.range } }, client.offset_encoding)[1]
      if item then
        item.text = describe(f):gsub('^%S+%s+', '')
        item.type = 'I'
        items[#items + 1] = item
      end
    end
    vim.fn.setqflist({}, ' ', { title = 'Countersign: pending sign-offs', items = items })
    if #items == 0 then
      info('no sign-off request is pending')
      return
    end
    vim.cmd('botright copen')
  end)
end

--- The countersign binary the running server uses, else the configured or default one.
function M.binary(bufnr)
  local client = countersign.client(bufnr, true)
  local cmd = client and client.config.cmd or countersign.options.cmd
  if type(cmd) == 'table' and cmd[1] then
    return cmd[1]
  end
  return 'countersign'
end

M.blame_ns = vim.api.nvim_create_namespace('countersign.blame')

--- Shows who wrote each line as end-of-line virtual text; run again to hide it. Reads the file
--- as saved (the CLI attributes the file on disk), so unsaved lines show nothing.
function M.blame()
  local bufnr = vim.api.nvim_get_current_buf()
  if #vim.api.nvim_buf_get_extmarks(bufnr, M.blame_ns, 0, -1, { limit = 1 }) > 0 then
    vim.api.nvim_buf_clear_namespace(bufnr, M.blame_ns, 0, -1)
    return
  end
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == '' then
    warn('the buffer has no file to blame')
    return
  end
  if vim.bo[bufnr].modified then
    warn('the buffer has unsaved changes; blame shows the file as saved')
  end
  local dir = vim.fs.dirname(file)
  vim.system({ M.binary(bufnr), 'blame', file, '--format', 'json' }, { cwd = dir, text = true }, function(r)
    vim.schedule(function()
      if r.code ~= 0 then
        warn(('blame failed (exit %d): %s'):format(r.code, vim.trim(r.stderr or '')))
        return
      end
      local ok, report = pcall(vim.json.decode, r.stdout, { luanil = { object = true, array = true } })
      if not ok or type(report) ~= 'table' then
        warn('blame printed no JSON: ' .. tostring(r.stdout))
        return
      end
      if not vim.api.nvim_buf_is_valid(bufnr) then
        return
      end
      vim.api.nvim_buf_clear_namespace(bufnr, M.blame_ns, 0, -1)
      local count = vim.api.nvim_buf_line_count(bufnr)
      for _, l in ipairs(report.lines or {}) do
        local row = (l.line or 0) - 1
        if row >= 0 and row < count and l.author and l.author ~= 'unknown' then
          local text, hl = '  ' .. l.author, 'Comment'
          if l.author == 'ai' then
            text = ('  AI: %s%s'):format(l.agent or 'assistant', l.source and (' (' .. l.source .. ')') or '')
            hl = 'DiagnosticWarn'
          end
          vim.api.nvim_buf_set_extmark(bufnr, M.blame_ns, row, 0, { virt_text = { { text, hl } }, virt_text_pos = 'eol' })
        end
      end
      vim.api.nvim_exec_autocmds('User', { pattern = 'CountersignBlame', data = { buf = bufnr, report = report } })
    end)
  end)
end

function M.log()
  local path = vim.lsp.log and vim.lsp.log.get_filename and vim.lsp.log.get_filename() or vim.lsp.get_log_path()
  vim.cmd.edit(vim.fn.fnameescape(path))
end

M.subcommands = {
  request = M.request,
  approve = M.approve,
  pending = M.pending,
  blame = M.blame,
  log = M.log,
}

function M.run(args)
  local name = args.fargs[1]
  local fn = name and M.subcommands[name]
  if not fn then
    warn(('unknown subcommand %q; one of: %s'):format(tostring(name), table.concat(M.complete(''), ', ')))
    return
  end
  fn()
end

function M.complete(prefix)
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return vim.tbl_filter(function(n)
    return vim.startswith(n, prefix or '')
  end, names)
end

return M
