-- End-to-end test of the Countersign language server in a real (headless) Neovim.
--
--   VIMRUNTIME=<runtime> nvim --headless -u NONE -l tests/nvim/e2e.lua <countersign-binary>
--
-- The first scenarios drive the server through the bare lsp/ config; tests/nvim/plugin.lua adds
-- the plugin's (setup{}, :Countersign, the sign-off reason prompt, :checkhealth, the help file,
-- the AI plugins' attribution hooks, both position encodings). vim.ui.input/select are answered
-- from scripts, as a user would answer them.
--
-- Each scenario runs in a fresh temporary git repository that is the workspace root. Prints one
-- line per scenario and a final "nvim e2e: N passed, M failed"; exits 1 if any failed (printing
-- the diagnostics and LSP messages it saw and the tail of the LSP log), 2 on bad usage.
--
-- Environment: COUNTERSIGN_E2E_TIMEOUT_MS (per wait, default 10000), COUNTERSIGN_E2E_ONLY
-- (run only scenarios whose name contains it), COUNTERSIGN_E2E_KEEP=1 (keep the temp repos),
-- COUNTERSIGN_E2E_VERBOSE=1 (print what each passing scenario sent and saw too),
-- COUNTERSIGN_LOG (server log filter, default "debug"; its stderr goes to the LSP log).

local uv = vim.uv

local function out(fmt, ...)
  io.stdout:write(string.format(fmt, ...), '\n')
  io.stdout:flush()
end

local bin = arg[1]
if not bin or bin == '' then
  io.stderr:write('usage: nvim --headless -u NONE -l tests/nvim/e2e.lua <countersign-binary>\n')
  os.exit(2)
end
bin = vim.fn.fnamemodify(bin, ':p')
if vim.fn.executable(bin) ~= 1 then
  io.stderr:write(('nvim e2e: %s is not an executable file\n'):format(bin))
  os.exit(2)
end
if vim.fn.has('nvim-0.11') ~= 1 or not vim.lsp.config then
  io.stderr:write(('nvim e2e: needs Neovim 0.11+, this is %s\n'):format(tostring(vim.version())))
  os.exit(2)
end

local script = debug.getinfo(1, 'S').source:gsub('^@', '')
local repo_root = vim.fn.fnamemodify(script, ':p:h:h:h')
local shipped_file = repo_root .. '/editors/nvim/lsp/countersign.lua'
local TIMEOUT = tonumber(os.getenv('COUNTERSIGN_E2E_TIMEOUT_MS') or '') or 10000
local ONLY = os.getenv('COUNTERSIGN_E2E_ONLY')
local KEEP = os.getenv('COUNTERSIGN_E2E_KEEP') == '1'
local VERBOSE = os.getenv('COUNTERSIGN_E2E_VERBOSE') == '1'
local SEV = vim.diagnostic.severity
local SIGNOFF_TITLE = 'Request senior sign-off (sql/drop-table)'

vim.cmd('filetype on') -- -u NONE leaves filetype detection off; languageId comes from it
vim.o.showmode = false -- no "-- INSERT --" on the terminal while typing
vim.lsp.log.set_level('debug')
local log_file = vim.lsp.log.get_filename()

-- The plugin (editors/nvim) on the runtimepath, as a plugin manager puts it; its plugin/ file
-- defines :Countersign and the sign-off prompt handler. The first scenarios exercise the server
-- with the bare lsp/ config, so every scenario starts from the command handlers Neovim had
-- before the plugin loaded, and the plugin scenarios register theirs through setup{}.
local builtin_commands = vim.deepcopy(vim.lsp.commands)
vim.opt.runtimepath:prepend(repo_root .. '/editors/nvim')
vim.cmd.runtime('plugin/countersign.lua')

--- Scripted answers for vim.ui.input / vim.ui.select, answered asynchronously as real UIs do.
local ui ---@type {inputs: (string|false)[], selects: function[], prompts: string[], inputs_done: integer}
local function reset_ui()
  ui = { inputs = {}, selects = {}, prompts = {}, inputs_done = 0 }
end
reset_ui()
vim.ui.input = function(opts, on_confirm)
  ui.prompts[#ui.prompts + 1] = opts and opts.prompt or ''
  local answer = table.remove(ui.inputs, 1)
  if answer == nil and trace then
    trace.notes[#trace.notes + 1] = '[test] unscripted vim.ui.input: ' .. tostring(opts and opts.prompt)
  end
  ui.inputs_done = ui.inputs_done + 1
  vim.schedule(function()
    on_confirm(answer or nil)
  end)
end
vim.ui.select = function(items, opts, on_choice)
  ui.prompts[#ui.prompts + 1] = opts and opts.prompt or ''
  local chooser = table.remove(ui.selects, 1)
  local ok, item, idx = false, nil, nil
  if chooser then
    ok, item, idx = pcall(chooser, items, opts)
  end
  if not ok and trace then
    trace.notes[#trace.notes + 1] = ('[test] vim.ui.select %q: %s'):format(tostring(opts and opts.prompt), chooser and tostring(item) or 'unscripted')
    item, idx = nil, nil
  end
  vim.schedule(function()
    on_choice(item, idx)
  end)
end

--- Per-scenario record of what happened, printed when the scenario fails.
local trace ---@type {diags: string[], sent: string[], notes: string[], log_start: integer}

local function sev_name(s)
  return SEV[s] or tostring(s)
end

local function describe(d)
  local lsp_range = vim.tbl_get(d, 'user_data', 'lsp', 'range')
  return string.format(
    '%s %s [%d:%d-%d:%d]%s %q',
    sev_name(d.severity),
    tostring(d.code),
    d.lnum,
    d.col,
    d.end_lnum or -1,
    d.end_col or -1,
    lsp_range
        and string.format(
          ' lsp[%d:%d-%d:%d]',
          lsp_range.start.line,
          lsp_range.start.character,
          lsp_range['end'].line,
          lsp_range['end'].character
        )
      or '',
    d.message
  )
end

-- Every diagnostic set the buffer goes through, and every notification sent to a server.
vim.api.nvim_create_autocmd('DiagnosticChanged', {
  callback = function(args)
    if not trace then
      return
    end
    local list = {}
    for _, d in ipairs(vim.diagnostic.get(args.buf)) do
      list[#list + 1] = describe(d)
    end
    trace.diags[#trace.diags + 1] = ('buf %d: {%s}'):format(args.buf, table.concat(list, '; '))
  end,
})
vim.api.nvim_create_autocmd('LspNotify', {
  callback = function(args)
    if not trace then
      return
    end
    local p = args.data.params or {}
    local what = args.data.method
    if what == 'textDocument/didChange' then
      local parts = {}
      for _, c in ipairs(p.contentChanges or {}) do
        local r = c.range
        parts[#parts + 1] = r
            and ('%d:%d-%d:%d %s'):format(r.start.line, r.start.character, r['end'].line, r['end'].character, vim.inspect(c.text))
          or ('full %s'):format(vim.inspect(c.text))
      end
      what = ('%s v%d [%s]'):format(what, p.textDocument.version, table.concat(parts, ', '))
    elseif what == 'countersign/aiEdit' then
      local parts = {}
      for _, r in ipairs(p.ranges or {}) do
        parts[#parts + 1] = ('%d:%d-%d:%d'):format(r.start.line, r.start.character, r['end'].line, r['end'].character)
      end
      what = ('%s v%s [%s] %s'):format(what, tostring(vim.tbl_get(p, 'textDocument', 'version')), table.concat(parts, ', '), tostring(p.agent))
    elseif what == 'textDocument/didOpen' then
      what = ('%s %s (%s) v%d'):format(what, p.textDocument.uri, p.textDocument.languageId, p.textDocument.version)
    end
    trace.sent[#trace.sent + 1] = ('client %d: %s'):format(args.data.client_id, what)
  end,
})
-- Messages (window/showMessage, Neovim's own warnings) would otherwise go to stderr unlabelled.
vim.notify = function(msg, level)
  if trace then
    trace.notes[#trace.notes + 1] = ('[%s] %s'):format(vim.log.levels[level or 2] or tostring(level), msg)
  end
end

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local function check(cond, fmt, ...)
  if not cond then
    fail(fmt, ...)
  end
  return cond
end

--- Waits until `cond` returns a truthy value, which it returns; fails after the timeout.
local function wait_for(what, cond, timeout)
  local value
  local ok = vim.wait(timeout or TIMEOUT, function()
    value = cond()
    return value ~= nil and value ~= false
  end, 20)
  check(ok, 'timed out after %d ms waiting for %s', timeout or TIMEOUT, what)
  return value
end

local function read_file(path)
  local f = io.open(path, 'rb')
  if not f then
    return nil
  end
  local s = f:read('*a')
  f:close()
  return s
end

local function shipped_config()
  local ok, config = pcall(dofile, shipped_file)
  check(ok and type(config) == 'table', 'cannot load %s: %s', shipped_file, tostring(config))
  return config
end

--- A fresh git repository in a temp dir (its real path, as the server will see it).
local function make_repo()
  local dir = vim.fn.tempname() .. '-countersign'
  vim.fn.mkdir(dir, 'p')
  dir = assert(uv.fs_realpath(dir))
  local r = vim.system({ 'git', 'init', '--quiet', dir }, { text = true }):wait()
  check(r.code == 0, 'git init %s failed: %s', dir, r.stderr or '')
  return dir
end

--- Opens `rel` (not yet on disk: a new file) in `repo` as the current buffer.
local function edit(repo, rel)
  local path = repo .. '/' .. rel
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  check(vim.bo[buf].filetype == 'sql', 'filetype of %s is %q, expected sql', rel, vim.bo[buf].filetype)
  check(vim.api.nvim_buf_line_count(buf) == 1, 'buffer %s is not empty', rel)
  return buf
end

local function server_env()
  return { COUNTERSIGN_LOG = os.getenv('COUNTERSIGN_LOG') or 'debug' }
end

--- Starts the server for `buf` with the shipped config (cmd overridden) plus `extra`; waits
--- until it is initialized and has been sent the didOpen. Returns the client.
local function start(buf, repo, extra)
  local shipped = shipped_config()
  check(vim.list_contains(shipped.filetypes or {}, vim.bo[buf].filetype), 'shipped config has no filetype sql')
  local config = vim.tbl_extend('force', shipped, {
    name = 'countersign',
    cmd = { bin, 'lsp' },
    cmd_env = server_env(),
    root_dir = repo,
  }, extra or {})
  config.filetypes, config.root_markers = nil, nil -- vim.lsp.enable's fields, not vim.lsp.start's
  local id = check(vim.lsp.start(config, { bufnr = buf }), 'vim.lsp.start returned nil')
  local client = check(vim.lsp.get_client_by_id(id), 'no client %d', id)
  wait_for('the server to initialize', function()
    return client.initialized
  end)
  check(client.server_info and client.server_info.name == 'countersign', 'serverInfo is %s', vim.inspect(client.server_info))
  local uri = vim.uri_from_bufnr(buf)
  wait_for('didOpen to be sent', function()
    for _, line in ipairs(trace.sent) do
      if line:find(('client %d: textDocument/didOpen %s'):format(id, uri), 1, true) then
        return true
      end
    end
  end)
  return client
end

local function stop(client)
  if client and not client:is_stopped() then
    client:stop()
    if not vim.wait(3000, function()
      return client:is_stopped()
    end, 20) then
      client:stop(true)
      vim.wait(1000, function()
        return client:is_stopped()
      end, 20)
    end
  end
end

-- Ends a scenario step: stops the client, drops the buffer, re-raises the step's error if any.
local function finish(client, buf, ok, err)
  stop(client)
  if buf then
    vim.api.nvim_buf_delete(buf, { force = true })
  end
  if not ok then
    error(err, 0)
  end
end

local function countersign_diags(buf)
  return vim.tbl_filter(function(d)
    return d.source == 'countersign'
  end, vim.diagnostic.get(buf))
end

local function find_diag(buf, severity, code)
  for _, d in ipairs(countersign_diags(buf)) do
    if d.severity == severity and d.code == code then
      return d
    end
  end
end

--- Byte position of the first `needle` in the buffer: 0-based line and byte column.
local function locate(buf, needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      return i - 1, col - 1
    end
  end
  fail('%q is not in the buffer', needle)
end

--- Waits for the ERROR diagnostic of sql/drop-table and checks where it points.
local function expect_drop_error(buf, client)
  local d = wait_for('an ERROR diagnostic sql/drop-table', function()
    return find_diag(buf, SEV.ERROR, 'sql/drop-table')
  end)
  check(d.message:find('needs senior sign%-off') ~= nil, 'message does not ask for sign-off: %q', d.message)
  local lnum, col = locate(buf, 'DROP TABLE')
  check(d.lnum == lnum and d.col == col, 'diagnostic starts at %d:%d (bytes), DROP is at %d:%d', d.lnum, d.col, lnum, col)
  local line = vim.api.nvim_buf_get_lines(buf, lnum, lnum + 1, true)[1]
  local stmt_end = col + #'DROP TABLE users'
  check(
    d.end_lnum == lnum and (d.end_col == stmt_end or d.end_col == stmt_end + 1),
    'diagnostic ends at %d:%d (bytes); the statement %q ends at %d:%d',
    d.end_lnum,
    d.end_col,
    line,
    lnum,
    stmt_end + 1
  )
  local lsp = check(vim.tbl_get(d, 'user_data', 'lsp'), 'no user_data.lsp on the diagnostic')
  local data = check(lsp.data, 'the LSP diagnostic has no data')
  check(type(data.fingerprint) == 'string' and data.fingerprint ~= '', 'data.fingerprint is %s', vim.inspect(data.fingerprint))
  check(data.rule == 'sql/drop-table', 'data.rule is %s', vim.inspect(data.rule))
  check(data.uri == vim.uri_from_bufnr(buf), 'data.uri is %s', vim.inspect(data.uri))
  -- The server's columns are in the negotiated encoding; recomputing them from Neovim's byte
  -- columns must give the same numbers.
  local enc = client.offset_encoding
  local want_start = vim.str_utfindex(line, enc, col, false)
  check(
    lsp.range.start.character == want_start,
    'LSP start character is %d, expected %d for byte %d in %s',
    lsp.range.start.character,
    want_start,
    col,
    enc
  )
  return d
end

--- textDocument/codeAction over the diagnostic, as Neovim builds it from its byte columns.
-- Runs an LSP command through the client, as a user picking the code action does, and waits
-- for the server's reply.
local function exec_command(client, buf, command)
  check(type(client.exec_cmd) == 'function', 'this Neovim has no Client:exec_cmd')
  local result
  client:exec_cmd(command, { bufnr = buf }, function(e, r)
    result = { err = e, result = r }
  end)
  result = wait_for('the executeCommand reply', function()
    return result
  end)
  check(not result.err, 'executeCommand failed: %s', vim.inspect(result.err))
  return result
end

local function signoff_action(buf, client, d)
  local enc = client.offset_encoding
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = {
      start = { line = d.lnum, character = vim.lsp.util.character_offset(buf, d.lnum, d.col, enc) },
      ['end'] = { line = d.end_lnum, character = vim.lsp.util.character_offset(buf, d.end_lnum, d.end_col, enc) },
    },
    context = { diagnostics = { d.user_data.lsp }, triggerKind = 1 },
  }
  check(
    vim.deep_equal(params.range, d.user_data.lsp.range),
    'range round trip: Neovim computes %s, the server sent %s',
    vim.inspect(params.range),
    vim.inspect(d.user_data.lsp.range)
  )
  local resp, err = client:request_sync('textDocument/codeAction', params, TIMEOUT, buf)
  check(resp, 'codeAction request failed: %s', tostring(err))
  check(not resp.err, 'codeAction returned an error: %s', vim.inspect(resp.err))
  local titles = {}
  for _, action in ipairs(resp.result or {}) do
    titles[#titles + 1] = action.title
    if action.title == SIGNOFF_TITLE then
      check(action.kind == 'quickfix', 'action kind is %s', vim.inspect(action.kind))
      local cmd = check(action.command, 'the action has no command')
      check(cmd.command == 'countersign.requestSignoff', 'command is %s', vim.inspect(cmd.command))
      local arg1 = (cmd.arguments or {})[1] or {}
      check(
        arg1.fingerprint == d.user_data.lsp.data.fingerprint,
        'command argument %s is not the diagnostic data',
        vim.inspect(cmd.arguments)
      )
      return action
    end
  end
  fail('no code action titled %q; got %s', SIGNOFF_TITLE, vim.inspect(titles))
end

--- Waits for the ledger file of the request and checks it; then for the diagnostic to turn INFO.
local function expect_signoff(repo, buf, d, rel, line)
  local fp = d.user_data.lsp.data.fingerprint
  local path = ('%s/.countersign/signoffs/%s.json'):format(repo, fp)
  local text = wait_for(path, function()
    return read_file(path)
  end)
  local ok, req = pcall(vim.json.decode, text)
  check(ok and type(req) == 'table', '%s is not JSON: %s', path, text)
  check(req.fingerprint == fp, 'request fingerprint %s, diagnostic %s', tostring(req.fingerprint), fp)
  check(req.rule == 'sql/drop-table', 'request rule is %s', tostring(req.rule))
  check(req.path == rel, 'request path is %s, expected %s', tostring(req.path), rel)
  check(req.line == line, 'request line is %s, expected %d', tostring(req.line), line)
  check(req.status == 'pending', 'request status is %s', tostring(req.status))
  local info = wait_for('the diagnostic to become INFO "Sign-off pending"', function()
    local now = find_diag(buf, SEV.INFO, 'sql/drop-table')
    return now and vim.startswith(now.message, 'Sign-off pending') and now
  end)
  check(#countersign_diags(buf) == 1, 'expected only the pending diagnostic, have %d', #countersign_diags(buf))
  check(info.lnum == d.lnum and info.col == d.col, 'the pending diagnostic moved')
  return req
end

--- The whole AI flow in `rel`: bulk insert `lines` → ERROR → code action → sign-off → INFO.
--- `opts.capabilities` restricts the client's capabilities; `opts.encoding` is the expected
--- negotiated encoding; `opts.via_buf_code_action` applies the action the way a user does
--- (vim.lsp.buf.code_action) instead of request_sync + exec_cmd.
local function ai_flow(repo, rel, lines, opts)
  local buf = edit(repo, rel)
  local client = start(buf, repo, opts.capabilities and { capabilities = opts.capabilities } or nil)
  local ok, err = pcall(function()
    check(client.offset_encoding == opts.encoding, 'negotiated %s, expected %s', client.offset_encoding, opts.encoding)
    check(#countersign_diags(buf) == 0, 'diagnostics on an empty buffer')
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines) -- one change of several lines: AI
    local d = expect_drop_error(buf, client)
    local line = d.lnum + 1
    if opts.via_buf_code_action then
      vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
      vim.lsp.buf.code_action({
        apply = true, -- a single matching action runs without a prompt
        filter = function(action)
          return action.title == SIGNOFF_TITLE
        end,
      })
    else
      local action = signoff_action(buf, client, d)
      local result = exec_command(client, buf, action.command)
      check(
        type(result.result) == 'table' and result.result.fingerprint == d.user_data.lsp.data.fingerprint,
        'executeCommand result %s',
        vim.inspect(result.result)
      )
    end
    expect_signoff(repo, buf, d, rel, line)
    for _, note in ipairs(trace.notes) do
      check(not note:find('does not support command', 1, true), 'Neovim said: %s', note)
    end
  end)
  finish(client, buf, ok, err)
end

local MULTIBYTE = { '-- 表 😀 notes', "SELECT '😀'; DROP TABLE users;" }

local scenarios = {
  {
    name = 'AI bulk insert: ERROR, code action, sign-off file, pending INFO (shipped config, utf-8)',
    run = function(repo)
      ai_flow(repo, 'db/migrate/001.sql', { 'DROP TABLE users;', 'SELECT 1;' }, { encoding = 'utf-8' })
    end,
  },
  {
    name = 'typing one character per change: HINT only, never ERROR',
    run = function(repo)
      local buf = edit(repo, 'db/migrate/002.sql')
      local client = start(buf, repo)
      local ok, err = pcall(function()
        -- Line 1: an insert-mode session (Neovim reports it as one single-line change).
        vim.api.nvim_feedkeys(vim.keycode('iDROP TABLE t;<Esc>'), 'xt', false)
        -- Enter at the end of the line, then line 2 one character per change, with time for
        -- some changes to go out in separate didChange notifications.
        vim.api.nvim_buf_set_text(buf, 0, 13, 0, 13, { '', '' })
        local typed = 'DROP TABLE u;'
        for i = 1, #typed do
          vim.api.nvim_buf_set_text(buf, 1, i - 1, 1, i - 1, { typed:sub(i, i) })
          if i % 4 == 0 then
            vim.wait(60)
          end
        end
        local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
        check(vim.deep_equal(lines, { 'DROP TABLE t;', 'DROP TABLE u;' }), 'buffer is %s', vim.inspect(lines))
        wait_for('two HINT diagnostics sql/drop-table', function()
          local hints = vim.tbl_filter(function(d)
            return d.severity == SEV.HINT and d.code == 'sql/drop-table'
          end, countersign_diags(buf))
          return #hints == 2
        end)
        vim.wait(400) -- let any late publish arrive
        for _, set in ipairs(trace.diags) do
          check(not set:find('ERROR', 1, true), 'an ERROR was published for typed text: %s', set)
        end
        local diags = countersign_diags(buf)
        check(#diags == 2, 'expected 2 diagnostics, have %d', #diags)
        for _, d in ipairs(diags) do
          check(d.severity == SEV.HINT, 'typed text got %s', describe(d))
          check(not d.message:find('needs senior sign%-off'), 'typed text asks for sign-off: %q', d.message)
        end
        local singles = 0
        for _, line in ipairs(trace.sent) do
          for _ in line:gmatch('%d+:%d+%-%d+:%d+ "[^"\\]"') do
            singles = singles + 1
          end
        end
        check(singles >= #typed, 'expected %d one-character changes, saw %d', #typed, singles)
      end)
      finish(client, buf, ok, err)
    end,
  },
  {
    name = 'multibyte text before DROP, default capabilities (utf-8): exact column, sign-off',
    run = function(repo)
      ai_flow(repo, 'db/migrate/003.sql', MULTIBYTE, { encoding = 'utf-8' })
    end,
  },
  {
    name = 'multibyte text before DROP, client offers only utf-16: exact column, sign-off via vim.lsp.buf.code_action',
    run = function(repo)
      ai_flow(repo, 'db/migrate/004.sql', MULTIBYTE, {
        encoding = 'utf-16',
        capabilities = { general = { positionEncodings = { 'utf-16' } } },
        via_buf_code_action = true,
      })
    end,
  },
  {
    name = "vim.lsp.enable('countersign') from editors/nvim on the runtimepath: root from root_markers",
    run = function(repo)
      vim.opt.runtimepath:prepend(repo_root .. '/editors/nvim')
      vim.lsp.config('countersign', { cmd = { bin, 'lsp' }, cmd_env = server_env() })
      vim.lsp.enable('countersign')
      local buf, client
      local ok, err = pcall(function()
        buf = edit(repo, 'db/migrate/nested/005.sql')
        client = wait_for('vim.lsp.enable to attach countersign', function()
          return vim.lsp.get_clients({ bufnr = buf, name = 'countersign' })[1]
        end)
        check(client.root_dir == repo, 'root_dir is %s, expected the repository %s', tostring(client.root_dir), repo)
        check(client.offset_encoding == 'utf-8', 'negotiated %s', client.offset_encoding)
        wait_for('initialization', function()
          return client.initialized
        end)
        wait_for('didOpen to be sent', function()
          return table.concat(trace.sent, '\n'):find('textDocument/didOpen', 1, true)
        end)
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'SELECT 1;', 'DROP TABLE users;' })
        expect_drop_error(buf, client)
      end)
      vim.lsp.enable('countersign', false)
      finish(client, buf, ok, err)
    end,
  },
  {
    name = 'linewise edits typed by a person (o, Enter inside a line, yyp) stay HINT',
    -- Neovim sends these as changes whose text spans two lines although the person added one
    -- line break or one line: `o` replaces "\n" with "\n\n", Enter before " users;" replaces
    -- " users;" with "\n users;", `yyp` inserts "\nDROP TABLE users;\n". The server's bulk-edit
    -- heuristic counts the lines of the change text, so it attributes them to an AI.
    run = function(repo)
      local cases = {
        { file = 'db/o.sql', keys = { 'iDROP TABLE<Esc>', 'o', 'iusers;<Esc>' } },
        { file = 'db/enter.sql', keys = { 'iDROP TABLE users;<Esc>', '010li<CR><Esc>' } },
        { file = 'db/yyp.sql', keys = { 'iSELECT 1;<CR>DROP TABLE users;<Esc>', 'yyp' } },
      }
      local problems = {}
      for _, case in ipairs(cases) do
        local buf = edit(repo, case.file)
        local client = start(buf, repo)
        local ok, err = pcall(function()
          for _, keys in ipairs(case.keys) do
            vim.api.nvim_feedkeys(vim.keycode(keys), 'xt', false)
            vim.wait(200) -- one keystroke batch per didChange, as a person types
          end
          wait_for('a sql/drop-table diagnostic', function()
            return #countersign_diags(buf) > 0
          end)
          vim.wait(200)
          for _, d in ipairs(countersign_diags(buf)) do
            if d.severity ~= SEV.HINT then
              problems[#problems + 1] = ('%s after keys %s: %s'):format(case.file, table.concat(case.keys, ' '), describe(d))
            end
          end
        end)
        finish(client, buf, ok, err)
      end
      check(#problems == 0, 'typed code reported as AI-written:\n    %s', table.concat(problems, '\n    '))
    end,
  },
  {
    name = 'a file Claude Code wrote, reloaded by :checktime, is the agent\'s (its hook recorded it)',
    run = function(repo)
      local rel = 'db/migrate/002_drop.sql'
      local path = repo .. '/' .. rel
      vim.fn.mkdir(vim.fs.dirname(path), 'p')
      vim.fn.writefile({ 'BEGIN;', '', 'COMMIT;' }, path)
      vim.o.autoread = true
      vim.cmd.edit(vim.fn.fnameescape(path))
      local buf = vim.api.nvim_get_current_buf()
      local client = start(buf, repo)
      local ok, err = pcall(function()
        -- The agent writes the file, then its PostToolUse hook runs with the real payload.
        vim.fn.writefile({ 'BEGIN;', 'DROP TABLE users;', 'COMMIT;' }, path)
        local payload = read_file(repo_root .. '/tests/fixtures/hooks/claude-code/edit.json'):gsub('%$ROOT', repo)
        local r = vim.system({ bin, 'hook', 'claude-code' }, { stdin = payload, text = true }):wait()
        check(r.code == 0, 'hook exited %d: %s', r.code, r.stderr or '')
        vim.cmd.checktime()
        local d = wait_for('an ERROR sql/drop-table written by claude-code (hook)', function()
          local e = find_diag(buf, SEV.ERROR, 'sql/drop-table')
          return e and e.message:find('written by claude-code (hook)', 1, true) and e
        end)
        check(d.lnum == 1, 'diagnostic on line %d', d.lnum + 1)
        check(not vim.bo[buf].modified, 'the reload left the buffer modified')
      end)
      finish(client, buf, ok, err)
    end,
  },
  {
    name = 'the same statement typed and then bulk-inserted: the request records the AI one',
    -- Both `DROP TABLE users;` get the same fingerprint (rule + path + normalized text), and
    -- the server resolves a fingerprint to the first finding in the file: the request for the
    -- AI-written line 3 is recorded with line 1 and author "human", and the code action's
    -- `diagnostics` names the HINT on line 1.
    run = function(repo)
      local buf = edit(repo, 'db/dup.sql')
      local client = start(buf, repo)
      local ok, err = pcall(function()
        local typed = 'DROP TABLE users;'
        for i = 1, #typed do
          vim.api.nvim_buf_set_text(buf, 0, i - 1, 0, i - 1, { typed:sub(i, i) })
        end
        wait_for('the HINT for the typed statement', function()
          return find_diag(buf, SEV.HINT, 'sql/drop-table')
        end)
        vim.api.nvim_buf_set_lines(buf, 1, 1, false, { 'SELECT 1;', 'DROP TABLE users;' })
        local d = wait_for('an ERROR diagnostic on line 3', function()
          local e = find_diag(buf, SEV.ERROR, 'sql/drop-table')
          return e and e.lnum == 2 and e
        end)
        local action = signoff_action(buf, client, d)
        local named = vim.tbl_get(action, 'diagnostics', 1, 'range', 'start', 'line')
        exec_command(client, buf, action.command)
        local path = ('%s/.countersign/signoffs/%s.json'):format(repo, d.user_data.lsp.data.fingerprint)
        local req = vim.json.decode(wait_for(path, function()
          return read_file(path)
        end))
        check(
          req.line == 3 and vim.tbl_get(req, 'author', 'kind') == 'ai' and named == 2,
          'request for the AI finding on line 3 records line %s, author %s; the code action names the diagnostic on line %s',
          tostring(req.line),
          vim.inspect(req.author, { newline = ' ', indent = '' }),
          tostring(named and named + 1)
        )
      end)
      finish(client, buf, ok, err)
    end,
  },
}

--- What tests/nvim/plugin.lua uses of this harness.
local helpers = {
  SEV = SEV,
  SIGNOFF_TITLE = SIGNOFF_TITLE,
  bin = bin,
  repo_root = repo_root,
  check = check,
  fail = fail,
  wait_for = wait_for,
  read_file = read_file,
  server_env = server_env,
  edit = edit,
  stop = stop,
  finish = finish,
  describe = describe,
  find_diag = find_diag,
  countersign_diags = countersign_diags,
  expect_drop_error = expect_drop_error,
  trace = function()
    return trace
  end,
  ui = function()
    return ui
  end,
  note = function(msg)
    trace.notes[#trace.notes + 1] = '[test] ' .. msg
  end,
  answer_input = function(text)
    ui.inputs[#ui.inputs + 1] = text
  end,
  answer_select = function(chooser)
    ui.selects[#ui.selects + 1] = chooser
  end,
  sent_contains = function(client, text)
    for _, line in ipairs(trace.sent) do
      if line:find(('client %d: %s'):format(client.id, text), 1, true) then
        return true
      end
    end
    return false
  end,
}
helpers.wait_sent = function(client, text)
  wait_for(text .. ' to be sent', function()
    return helpers.sent_contains(client, text)
  end)
end
vim.list_extend(scenarios, dofile(vim.fn.fnamemodify(script, ':p:h') .. '/plugin.lua')(helpers))

local function log_size()
  local st = uv.fs_stat(log_file)
  return st and st.size or 0
end

local function log_tail(from, max_lines)
  local text = read_file(log_file) or ''
  local lines = vim.split(text:sub(from + 1), '\n', { trimempty = true })
  local first = math.max(1, #lines - max_lines + 1)
  local tail = {}
  for i = first, #lines do
    local l = lines[i]
    tail[#tail + 1] = #l > 600 and (l:sub(1, 600) .. ' …') or l
  end
  return tail, first > 1
end

local passed, failed = 0, 0
out('nvim e2e: Neovim %s, server %s', tostring(vim.version()), bin)
for i, sc in ipairs(scenarios) do
  if not ONLY or sc.name:find(ONLY, 1, true) then
    trace = { diags = {}, sent = {}, notes = {}, log_start = log_size() }
    reset_ui()
    for name in pairs(vim.lsp.commands) do
      vim.lsp.commands[name] = builtin_commands[name]
    end
    local t0 = uv.hrtime()
    local repo
    local ok, err = xpcall(function()
      repo = make_repo()
      sc.run(repo)
    end, function(e)
      return (type(e) == 'string' and e or vim.inspect(e)) .. debug.traceback('', 2):gsub('\n', '\n    ')
    end)
    local ms = (uv.hrtime() - t0) / 1e6
    -- Leave no client behind for the next scenario.
    for _, c in ipairs(vim.lsp.get_clients()) do
      stop(c)
    end
    if ok then
      passed = passed + 1
      out('PASS %d. %s (%.0f ms)', i, sc.name, ms)
    end
    if ok and VERBOSE then
      for _, s in ipairs(vim.list_extend(vim.list_extend(vim.list_extend({}, trace.sent), trace.diags), trace.notes)) do
        out('    %s', s)
      end
    elseif not ok then
      failed = failed + 1
      out('FAIL %d. %s (%.0f ms)', i, sc.name, ms)
      out('  error: %s', err)
      out('  repo: %s', tostring(repo))
      out('  diagnostics seen (%d updates):', #trace.diags)
      for _, s in ipairs(trace.diags) do
        out('    %s', s)
      end
      out('  notifications sent to the server:')
      for _, s in ipairs(trace.sent) do
        out('    %s', s)
      end
      out('  messages:')
      for _, s in ipairs(trace.notes) do
        out('    %s', s)
      end
      local tail, cut = log_tail(trace.log_start, 60)
      out('  LSP log %s (%s):', log_file, cut and 'last 60 lines of this scenario' or 'this scenario')
      for _, s in ipairs(tail) do
        out('    %s', s)
      end
    end
    if repo and not KEEP then
      vim.fn.delete(repo, 'rf')
    end
  end
end
trace = nil
out('nvim e2e: %d passed, %d failed', passed, failed)
os.exit(failed == 0 and passed > 0 and 0 or 1)
