-- Tells the server which text an AI plugin just wrote (`countersign/aiEdit`), so a one-line
-- suggestion accepted from Copilot counts as AI-written although it looks typed.
--
-- A capture is opened when a plugin starts writing and closed when it is done; every text
-- inserted into a watched buffer meanwhile gets an extmark, so later edits move the range with
-- the text. On close the extmarks are read back, converted to the client's position encoding
-- and sent with the buffer's current version (after flushing pending didChange, since the
-- server ignores an aiEdit naming a version it has not seen).

local countersign = require('countersign')

local M = {}

local ns = vim.api.nvim_create_namespace('countersign.attribution')
local augroup = vim.api.nvim_create_augroup('countersign.attribution', { clear = true })

local enabled = false
---@type table<integer, string> buffer -> agent whose capture is open
local capturing = {}
---@type table<integer, table<integer, string>> buffer -> extmark id -> agent
local marks = {}
---@type table<integer, true>
local attached = {}

local function on_bytes(_, buf, _, sr, sc, _, old_er, old_ec, _, _, _, new_len)
  if not enabled then
    attached[buf] = nil
    return true -- detach
  end
  local agent = capturing[buf]
  if not agent or new_len == 0 then
    return
  end
  -- Neovim moves extmarks for this change after the callbacks run, so the mark is placed over
  -- the replaced (old) range with the start staying left and the end moving right: the splice
  -- then stretches it over exactly the new text.
  local ok, id = pcall(vim.api.nvim_buf_set_extmark, buf, ns, sr, sc, {
    end_row = sr + old_er,
    end_col = old_er == 0 and sc + old_ec or old_ec,
    right_gravity = false,
    end_right_gravity = true,
    strict = false,
  })
  if ok then
    marks[buf] = marks[buf] or {}
    marks[buf][id] = agent
  end
end

--- Watches `buf` for inserts (cheap: returns at once while no capture is open).
function M.watch(buf)
  if attached[buf] or not vim.api.nvim_buf_is_loaded(buf) then
    return
  end
  attached[buf] = true
  vim.api.nvim_buf_attach(buf, false, {
    on_bytes = on_bytes,
    on_detach = function(_, b)
      attached[b], capturing[b], marks[b] = nil, nil, nil
    end,
  })
end

local function watched_buffers()
  local list = {}
  for _, c in ipairs(countersign.clients()) do
    for buf in pairs(c.attached_buffers or {}) do
      if not vim.list_contains(list, buf) then
        list[#list + 1] = buf
      end
    end
  end
  return list
end

--- Opens a capture: text inserted into `bufs` (default: every buffer the server has open) is
--- `agent`'s until finish(agent).
---@param agent string
---@param bufs? integer[]
function M.begin(agent, bufs)
  for _, buf in ipairs(bufs or watched_buffers()) do
    M.watch(buf)
    capturing[buf] = agent
  end
end

--- Sends what `agent` wrote since begin(agent) and closes its capture.
---@param agent string
function M.finish(agent)
  for buf, agent_of in pairs(capturing) do
    if agent_of == agent then
      capturing[buf] = nil
    end
  end
  for buf, ids in pairs(marks) do
    if not vim.api.nvim_buf_is_loaded(buf) then
      marks[buf] = nil
      goto continue
    end
    local ranges = {}
    for id, who in pairs(ids) do
      if who == agent then
        ids[id] = nil
        local m = vim.api.nvim_buf_get_extmark_by_id(buf, ns, id, { details = true })
        vim.api.nvim_buf_del_extmark(buf, ns, id)
        local d = m[3]
        if m[1] and d and (d.end_row ~= m[1] or d.end_col ~= m[2]) then
          ranges[#ranges + 1] = { m[1], m[2], d.end_row, d.end_col }
        end
      end
    end
    if #ranges > 0 then
      M.send(buf, ranges, agent)
    end
    ::continue::
  end
end

--- Sends `countersign/aiEdit` for byte ranges {start_row, start_col, end_row, end_col} of `buf`.
function M.send(buf, ranges, agent)
  table.sort(ranges, function(a, b)
    return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
  end)
  local ok_ct, changetracking = pcall(require, 'vim.lsp._changetracking')
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = buf, name = countersign.name })) do
    if ok_ct and changetracking.flush then
      changetracking.flush(client, buf)
    end
    local enc = client.offset_encoding or 'utf-16'
    local last = vim.api.nvim_buf_line_count(buf) - 1
    local function pos(row, col)
      if row > last then -- an extmark at the very end: the end of the last line
        row = last
        col = #vim.api.nvim_buf_get_lines(buf, last, last + 1, true)[1]
      end
      return { line = row, character = vim.lsp.util.character_offset(buf, row, col, enc) }
    end
    local lsp_ranges = {}
    for _, r in ipairs(ranges) do
      lsp_ranges[#lsp_ranges + 1] = { start = pos(r[1], r[2]), ['end'] = pos(r[3], r[4]) }
    end
    local version = vim.lsp.util.buf_versions[buf] or vim.b[buf].changedtick
    countersign.notify(client, 'countersign/aiEdit', {
      textDocument = { uri = vim.uri_from_bufnr(buf), version = version },
      ranges = lsp_ranges,
      agent = agent,
    })
  end
end

-- copilot.lua: no event on accept; its accept functions apply the suggestion in a scheduled
-- callback (vim.lsp.util.apply_text_edits), so the capture closes one tick later.
local function hook_copilot_lua()
  local mod = package.loaded['copilot.suggestion']
  if type(mod) ~= 'table' or mod._countersign_wrapped then
    return
  end
  mod._countersign_wrapped = true
  for _, name in ipairs({ 'accept', 'accept_word', 'accept_line' }) do
    local original = mod[name]
    if type(original) == 'function' then
      mod[name] = function(...)
        if enabled then
          M.begin('copilot', { vim.api.nvim_get_current_buf() })
          vim.schedule(function()
            vim.schedule(function()
              M.finish('copilot')
            end)
          end)
        end
        return original(...)
      end
    end
  end
end

-- copilot.vim: copilot#Accept() returns keys that insert copilot#TextQueuedForInsertion()
-- through the expression register, so that function runs exactly when a suggestion goes in.
-- The wrapper keeps the original through funcref(). Redefining a referenced autoload function
-- creates a new one, which Vim allows only from a script named like its autoload file (E746),
-- hence the wrapper is sourced from a file named autoload/copilot.vim (outside 'runtimepath').
local function hook_copilot_vim()
  if vim.fn.exists('*copilot#TextQueuedForInsertion') ~= 1 or vim.g.countersign_copilot_vim_wrapped then
    return
  end
  vim.g.countersign_copilot_vim_wrapped = true
  local dir = vim.fn.tempname() .. '/autoload'
  vim.fn.mkdir(dir, 'p')
  local file = dir .. '/copilot.vim'
  vim.fn.writefile({
    "let g:CountersignCopilotQueued = funcref('copilot#TextQueuedForInsertion')",
    'function! copilot#TextQueuedForInsertion() abort',
    '  let text = call(g:CountersignCopilotQueued, [])',
    '  if !empty(text)',
    "    call v:lua.require'countersign.attribution'.copilot_vim_queued()",
    '  endif',
    '  return text',
    'endfunction',
  }, file)
  local ok, err = pcall(vim.cmd.source, vim.fn.fnameescape(file))
  vim.fn.delete(vim.fs.dirname(dir), 'rf')
  if not ok then
    vim.notify('Countersign: cannot follow copilot.vim suggestions: ' .. tostring(err), vim.log.levels.WARN)
  end
end

function M.copilot_vim_queued()
  if not enabled then
    return
  end
  M.begin('copilot', { vim.api.nvim_get_current_buf() })
  -- The text is inserted right after this expression returns, before the loop runs callbacks.
  vim.schedule(function()
    M.finish('copilot')
  end)
end

local function user(patterns, callback)
  vim.api.nvim_create_autocmd('User', { group = augroup, pattern = patterns, callback = callback })
end

---@param opts countersign.Attribution|false|nil
function M.setup(opts)
  vim.api.nvim_clear_autocmds({ group = augroup })
  enabled = opts ~= false and opts ~= nil
  if not enabled then
    for buf in pairs(capturing) do
      capturing[buf] = nil
    end
    return
  end

  vim.api.nvim_create_autocmd('LspAttach', {
    group = augroup,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == countersign.name then
        M.watch(args.buf)
      end
    end,
  })
  for _, buf in ipairs(watched_buffers()) do
    M.watch(buf)
  end

  if opts.copilot_lua or opts.copilot_vim then
    -- Both plugins load lazily, usually on InsertEnter; accepting happens in insert mode.
    local function hook()
      if opts.copilot_lua then
        hook_copilot_lua()
      end
      if opts.copilot_vim then
        hook_copilot_vim()
      end
    end
    vim.api.nvim_create_autocmd({ 'InsertEnter', 'CursorMovedI' }, { group = augroup, callback = hook })
    hook()
  end

  if opts.avante then
    -- avante.nvim's "edit selected block" streams into the buffer between these two events.
    user('AvanteEditingInputStartSpinner', function()
      M.begin('avante')
    end)
    user('AvanteEditingInputStopSpinner', function()
      M.finish('avante')
    end)
  end

  if opts.codecompanion then
    -- The inline assistant writes its answer right after InlineFinished fires (in the same
    -- turn), tools write between their Started and Finished events: close a tick later.
    user({
      'CodeCompanionInlineStarted',
      'CodeCompanionToolsStarted',
      'CodeCompanionToolStarted',
      'CodeCompanionAgentStarted',
    }, function()
      M.begin('codecompanion')
    end)
    user({
      'CodeCompanionInlineFinished',
      'CodeCompanionToolsFinished',
      'CodeCompanionToolFinished',
      'CodeCompanionAgentFinished',
    }, function()
      vim.schedule(function()
        M.finish('codecompanion')
      end)
    end)
  end
end

return M
