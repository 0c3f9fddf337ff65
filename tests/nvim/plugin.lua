-- Scenarios for the Neovim plugin (editors/nvim: setup{}, :Countersign, the sign-off prompt,
-- :checkhealth, the help file and the AI plugins' attribution hooks), loaded by e2e.lua, which
-- passes its helpers in `h`. The AI plugins cannot be installed here, so each hook is driven
-- the way the plugin itself would drive it: the same User autocmds, the same function names and
-- shapes (a stub copilot.vim autoload function, a stub copilot.lua module), with a real edit.

return function(h)
  local SEV, check, fail, wait_for = h.SEV, h.check, h.fail, h.wait_for
  local uv = vim.uv

  local function git(repo, ...)
    local r = vim.system({ 'git', '-C', repo, ... }, { text = true }):wait()
    check(r.code == 0, 'git %s failed: %s', table.concat({ ... }, ' '), r.stderr or '')
    return vim.trim(r.stdout or '')
  end

  local function cli(repo, args, env)
    local r = vim.system(vim.list_extend({ h.bin }, args), { cwd = repo, text = true, env = env }):wait()
    return r
  end

  --- setup{} with the test binary; `extra` is merged into the options.
  local function setup(extra)
    local opts = vim.tbl_deep_extend('force', {
      cmd = { h.bin, 'lsp' },
      cmd_env = h.server_env(),
    }, extra or {})
    require('countersign').setup(opts)
  end

  --- The countersign client setup{} attached to `buf`, initialized and told about the buffer.
  local function attached(buf, repo)
    local client = wait_for('countersign to attach', function()
      return vim.lsp.get_clients({ bufnr = buf, name = 'countersign' })[1]
    end)
    wait_for('initialization', function()
      return client.initialized
    end)
    check(client.root_dir == repo, 'root_dir is %s, expected %s', tostring(client.root_dir), repo)
    h.wait_sent(client, 'textDocument/didOpen ' .. vim.uri_from_bufnr(buf))
    return client
  end

  local function teardown(buf, ok, err)
    pcall(function()
      require('countersign').disable()
    end)
    for _, c in ipairs(vim.lsp.get_clients({ name = 'countersign' })) do
      h.stop(c)
    end
    h.finish(nil, buf, ok, err)
  end

  local function ledger(repo, fp)
    local path = ('%s/.countersign/signoffs/%s.json'):format(repo, fp)
    return vim.json.decode(wait_for(path, function()
      return h.read_file(path)
    end))
  end

  local function pending_info(buf)
    return wait_for('the diagnostic to become INFO "Sign-off pending"', function()
      local d = h.find_diag(buf, SEV.INFO, 'sql/drop-table')
      return d and vim.startswith(d.message, 'Sign-off pending') and d
    end)
  end

  local function save(buf)
    vim.api.nvim_buf_call(buf, function()
      vim.cmd('silent write')
    end)
  end

  --- A senior's SSH key in the repository: git signs with it, allowed_signers names it.
  local function make_senior(repo, email)
    local key = repo .. '/.git/senior_ed25519'
    local r = vim.system({ 'ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', email, '-f', key }, { text = true }):wait()
    check(r.code == 0, 'ssh-keygen failed: %s', r.stderr or '')
    local pub = vim.trim(h.read_file(key .. '.pub'))
    git(repo, 'config', 'gpg.format', 'ssh')
    git(repo, 'config', 'user.signingkey', key .. '.pub')
    vim.fn.mkdir(repo .. '/.countersign', 'p')
    vim.fn.writefile({ email .. ' ' .. pub }, repo .. '/.countersign/allowed_signers')
    return key
  end

  --- Needs countersign.workspaceFindings: fails naming what the server offers otherwise.
  local function needs_findings(client)
    local cmds = vim.tbl_get(client.server_capabilities, 'executeCommandProvider', 'commands') or {}
    check(
      vim.list_contains(cmds, 'countersign.workspaceFindings'),
      'the server does not offer countersign.workspaceFindings (executeCommandProvider.commands = %s)',
      vim.inspect(cmds)
    )
  end

  --- Types `text` on a new line after the buffer's last line, one character per change, as a
  --- person does; then waits for its finding (a HINT unless settings say otherwise).
  local function type_line(buf, text)
    local last = vim.api.nvim_buf_line_count(buf)
    local line = vim.api.nvim_buf_get_lines(buf, last - 1, last, true)[1]
    local row = last - 1
    if line ~= '' then
      vim.api.nvim_buf_set_text(buf, row, #line, row, #line, { '', '' })
      row = row + 1
    end
    for i = 1, #text do
      vim.api.nvim_buf_set_text(buf, row, i - 1, row, i - 1, { text:sub(i, i) })
    end
    return row
  end

  local function diag_on(buf, row)
    for _, d in ipairs(h.countersign_diags(buf)) do
      if d.lnum == row then
        return d
      end
    end
  end

  --- One line of AI text inserted as a single change (the bulk heuristic does not fire), with
  --- the plugin's own begin/finish around it done by `drive`, and then the ERROR it must cause.
  local function attribution_case(repo, rel, agent, drive)
    local buf = h.edit(repo, rel)
    local client = attached(buf, repo)
    -- The control: the same kind of edit (a whole statement inserted into an empty line in one
    -- change) with no AI plugin behind it is a person's: HINT.
    local typed_row = 0
    vim.api.nvim_buf_set_text(buf, 0, 0, 0, 0, { 'DROP TABLE people;' })
    wait_for('the HINT for the one-change line no plugin wrote', function()
      local d = diag_on(buf, typed_row)
      return d and d.severity == SEV.HINT
    end)
    -- An empty line for the agent to fill, so its text goes in as one single-line change: the
    -- server's bulk-insert heuristic counts the lines of a change, and must not fire here.
    vim.api.nvim_buf_set_lines(buf, -1, -1, true, { '' })
    local row = vim.api.nvim_buf_line_count(buf) - 1
    vim.wait(250) -- its own didChange
    local sent_before = #h.trace().sent
    drive(buf, row)
    check(
      vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] == 'DROP TABLE users;',
      'the AI line is not in the buffer: %s',
      vim.inspect(vim.api.nvim_buf_get_lines(buf, 0, -1, false))
    )
    local d = wait_for('an ERROR for the AI-written line', function()
      local e = diag_on(buf, row)
      return e and e.severity == SEV.ERROR and e
    end)
    check(d.message:find('written by ' .. agent, 1, true), 'the ERROR does not name %s: %q', agent, d.message)
    local typed = diag_on(buf, typed_row)
    check(typed and typed.severity == SEV.HINT, 'the typed line is no longer a HINT: %s', typed and h.describe(typed) or 'gone')
    local ai_edits = 0
    for i = sent_before + 1, #h.trace().sent do
      if h.trace().sent[i]:find('countersign/aiEdit', 1, true) then
        ai_edits = ai_edits + 1
      end
    end
    check(ai_edits >= 1, 'no countersign/aiEdit was sent')
    return buf, client
  end

  --- Runs `fn(repo)` after setup(extra); then disables the plugin, stops its clients and
  --- drops every buffer of the repository, whatever happened.
  local function with_setup(extra, fn)
    return function(repo)
      local ok, err = pcall(function()
        setup(extra)
        fn(repo)
      end)
      local temp = vim.fs.dirname(repo) .. '/'
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.startswith(vim.api.nvim_buf_get_name(b), temp) then
          pcall(vim.api.nvim_buf_delete, b, { force = true })
        end
      end
      teardown(nil, ok, err)
    end
  end

  local AI_LINES = { 'BEGIN;', 'DROP TABLE users;', 'COMMIT;' }

  return {
    {
      name = "setup{} on 0.11+ (vim.lsp.config/enable): diagnostics, settings as init_options and didChangeConfiguration",
      run = with_setup({ settings = { humanSeverity = 'warning' } }, function(repo)
        local buf = h.edit(repo, 'db/setup.sql')
        local client = attached(buf, repo)
        check(not vim.lsp.is_enabled or vim.lsp.is_enabled('countersign'), 'setup did not vim.lsp.enable the server')
        check(
          vim.tbl_get(client.config, 'init_options', 'humanSeverity') == 'warning'
            or vim.tbl_get(client, 'settings', 'countersign', 'humanSeverity') == 'warning',
          'settings did not reach the client config: %s',
          vim.inspect(client.settings)
        )
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, AI_LINES)
        h.expect_drop_error(buf, client)
        local row = type_line(buf, 'DROP TABLE people;')
        wait_for('humanSeverity "warning" from initializationOptions: the typed line is a WARNING', function()
          local d = diag_on(buf, row)
          return d and d.severity == SEV.WARN
        end)
        require('countersign').set_settings({ humanSeverity = 'information' })
        wait_for('humanSeverity "information" from didChangeConfiguration', function()
          local d = diag_on(buf, row)
          return d and d.severity == SEV.INFO
        end)
        check(h.sent_contains(client, 'workspace/didChangeConfiguration'), 'no didChangeConfiguration was sent')
        return buf
      end),
    },
    {
      name = 'setup{} on the 0.10 path (FileType autocmd + vim.lsp.start): root from markers, diagnostics',
      run = with_setup({ _autocmd = true }, function(repo)
        local buf = h.edit(repo, 'db/nested/legacy.sql')
        local client = attached(buf, repo)
        check(#vim.api.nvim_get_autocmds({ group = 'countersign', event = 'FileType' }) > 0, 'no FileType autocmd')
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, AI_LINES)
        h.expect_drop_error(buf, client)
        -- A second buffer of the same repository reuses the client.
        local buf2 = h.edit(repo, 'db/other.sql')
        local c2 = attached(buf2, repo)
        check(c2.id == client.id, 'a second client started for the same root')
        vim.api.nvim_buf_delete(buf2, { force = true })
        return buf
      end),
    },
    {
      name = 'code action "Request senior sign-off" asks for the reason; empty answer sends nothing',
      run = with_setup({}, function(repo)
        local buf = h.edit(repo, 'db/reason.sql')
        local client = attached(buf, repo)
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, AI_LINES)
        local d = h.expect_drop_error(buf, client)
        vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
        local fp = d.user_data.lsp.data.fingerprint
        local path = ('%s/.countersign/signoffs/%s.json'):format(repo, fp)
        local function pick()
          vim.lsp.buf.code_action({
            apply = true,
            filter = function(a)
              return a.title == h.SIGNOFF_TITLE
            end,
          })
        end
        h.answer_input('')
        pick()
        wait_for('the reason prompt', function()
          return h.ui().inputs_done == 1
        end)
        vim.wait(300)
        check(not uv.fs_stat(path), 'an empty reason still wrote %s', path)
        check(h.find_diag(buf, SEV.ERROR, 'sql/drop-table'), 'the ERROR went away without a request')
        h.answer_input('The table was emptied by migration 041; dropping it frees the name.')
        pick()
        local req = ledger(repo, fp)
        check(
          req.reason == 'The table was emptied by migration 041; dropping it frees the name.',
          'the request records reason %s',
          vim.inspect(req.reason)
        )
        check(h.ui().prompts[#h.ui().prompts]:find('right', 1, true), 'prompt was %q', h.ui().prompts[#h.ui().prompts])
        pending_info(buf)
        return buf
      end),
    },
    {
      name = ':Countersign request at the cursor, and from the workspace list when the cursor is elsewhere',
      run = with_setup({}, function(repo)
        local other = h.edit(repo, 'db/list.sql')
        local client = attached(other, repo)
        vim.api.nvim_buf_set_lines(other, 0, -1, false, { 'SELECT 1;', 'DROP TABLE orders;', 'SELECT 2;' })
        local listed = wait_for('the ERROR in db/list.sql', function()
          return h.find_diag(other, SEV.ERROR, 'sql/drop-table')
        end)
        save(other)
        local buf = h.edit(repo, 'db/cursor.sql')
        attached(buf, repo)
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, AI_LINES)
        local d = h.expect_drop_error(buf, client)
        save(buf)
        vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col + 2 })
        h.answer_input('Replaced by the users_v2 table in this release.')
        vim.cmd('Countersign request')
        local req = ledger(repo, d.user_data.lsp.data.fingerprint)
        check(req.reason == 'Replaced by the users_v2 table in this release.', 'reason %s', vim.inspect(req.reason))
        pending_info(buf)

        needs_findings(client)
        vim.api.nvim_win_set_cursor(0, { 1, 0 }) -- BEGIN;: no finding here
        h.answer_select(function(items, opts)
          for i, item in ipairs(items) do
            if item.path == 'db/list.sql' then
              check(opts.format_item(item):find('db/list.sql:2', 1, true), 'item shows %q', opts.format_item(item))
              return item, i
            end
          end
          fail('db/list.sql is not among the unsigned findings: %s', vim.inspect(items))
        end)
        h.answer_input('Orders moved to the archive database last quarter.')
        vim.cmd('Countersign request')
        local req2 = ledger(repo, listed.user_data.lsp.data.fingerprint)
        check(req2.path == 'db/list.sql' and req2.reason == 'Orders moved to the archive database last quarter.', 'request %s', vim.inspect(req2))
        vim.api.nvim_buf_delete(other, { force = true })
        return buf
      end),
    },
    {
      name = ':Countersign pending fills the quickfix list; :Countersign approve signs as the senior; blame; log',
      run = with_setup({}, function(repo)
        -- The senior's key is git's signing key and listed in allowed_signers, but the request
        -- is made while git names another person, as a junior's request would be.
        make_senior(repo, 'senior@example.com')
        git(repo, 'config', 'user.name', 'Junior Dev')
        git(repo, 'config', 'user.email', 'junior@example.com')
        local buf = h.edit(repo, 'db/approve.sql')
        local client = attached(buf, repo)
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, AI_LINES)
        local d = h.expect_drop_error(buf, client)
        save(buf)
        vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
        h.answer_input('Users live in the accounts service now.')
        vim.cmd('Countersign request')
        local fp = d.user_data.lsp.data.fingerprint
        check(ledger(repo, fp).requested_by.email == 'junior@example.com', 'request not made as the junior')
        pending_info(buf)
        git(repo, 'config', 'user.name', 'Senior Dev')
        git(repo, 'config', 'user.email', 'senior@example.com')

        local status = wait_for('countersign/status to count the pending request', function()
          local st = require('countersign').status(buf)
          return st and st.pending == 1 and st.unsigned == 0 and st
        end)
        check(require('countersign').statusline(buf) == 'CS 0! 1…', 'statusline %q (status %s)', require('countersign').statusline(buf), vim.inspect(status))

        needs_findings(client)
        vim.cmd('Countersign pending')
        local qf = wait_for('the quickfix list of pending sign-offs', function()
          local l = vim.fn.getqflist({ title = 1, items = 1 })
          return l.title == 'Countersign: pending sign-offs' and #l.items > 0 and l
        end)
        check(#qf.items == 1, 'quickfix has %d items', #qf.items)
        local item = qf.items[1]
        check(item.bufnr == buf and item.lnum == d.lnum + 1 and item.col == d.col + 1, 'quickfix item %s', vim.inspect(item))
        check(item.text:find('sql/drop-table', 1, true) and item.text:find('Users live in the accounts service now.', 1, true), 'quickfix text %q', item.text)
        vim.cmd('cclose')

        h.answer_select(function(items)
          check(#items == 1 and items[1].data.fingerprint == fp, 'pending list %s', vim.inspect(items))
          return items[1], 1
        end)
        vim.cmd('Countersign approve')
        local listed = wait_for('the approval in the ledger (countersign signoff list)', function()
          local r = cli(repo, { 'signoff', 'list', '--format', 'json' })
          local ok, j = pcall(vim.json.decode, r.stdout or '')
          for _, e in ipairs(ok and type(j) == 'table' and j.signoffs or {}) do
            if e.fingerprint == fp and e.state == 'approved' then
              return e
            end
          end
        end)
        h.note('approved: ' .. vim.inspect(listed))
        check(
          vim.inspect(listed.approved_by):find('senior@example.com', 1, true),
          'approved_by does not name the senior: %s',
          vim.inspect(listed.approved_by)
        )
        local v = cli(repo, { 'signoff', 'verify' })
        check(v.code == 0, 'countersign signoff verify says: %s%s', v.stdout or '', v.stderr or '')
        wait_for('the approved finding to be hidden', function()
          return #h.countersign_diags(buf) == 0
        end)

        -- blame: who wrote each line of the saved file, as virtual text.
        local ns = require('countersign.commands').blame_ns
        vim.cmd('Countersign blame')
        local marks = wait_for('blame virtual text', function()
          local m = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
          return #m > 0 and m
        end)
        local by_row = {}
        for _, m in ipairs(marks) do
          by_row[m[2]] = m[4].virt_text[1][1]
        end
        check(by_row[d.lnum] and by_row[d.lnum]:find('AI', 1, true), 'blame of line %d: %s (all: %s)', d.lnum + 1, tostring(by_row[d.lnum]), vim.inspect(by_row))
        vim.cmd('Countersign blame')
        check(#vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, {}) == 0, 'a second :Countersign blame did not hide it')

        vim.cmd('Countersign log')
        local shown = vim.api.nvim_buf_get_name(0)
        check(uv.fs_realpath(shown) == uv.fs_realpath(vim.lsp.log.get_filename()), ':Countersign log opened %s', shown)
        vim.cmd('bwipeout')
        check(vim.fn.getcompletion('Countersign ', 'cmdline')[1] == 'approve', 'completion: %s', vim.inspect(vim.fn.getcompletion('Countersign ', 'cmdline')))
        check(vim.deep_equal(vim.fn.getcompletion('Countersign p', 'cmdline'), { 'pending' }), 'completion of p')
        return buf
      end),
    },
    {
      name = ':checkhealth countersign reports binary, version, config, repository, key and senior; :helptags builds the tags',
      run = with_setup({}, function(repo)
        make_senior(repo, 'senior@example.com')
        git(repo, 'config', 'user.email', 'senior@example.com')
        vim.fn.writefile({ '[policy]', 'human_severity = "hint"' }, repo .. '/countersign.toml')
        local cwd = vim.fn.getcwd()
        vim.cmd.cd(vim.fn.fnameescape(repo))
        local ok, err = pcall(function()
          vim.cmd('silent checkhealth countersign')
          local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
          vim.cmd('bwipeout')
          h.note(text)
          local path = vim.fn.exepath(h.bin)
          for _, want in ipairs({
            'OK found ' .. path,
            'OK version: countersign ',
            'OK git repository: ' .. repo,
            'OK countersign.toml is valid',
            'OK git signs with SSH keys',
            'OK signing key: ' .. repo .. '/.git/senior_ed25519.pub',
            'OK you are a senior here: your key is in .countersign/allowed_signers as senior@example.com',
          }) do
            check(text:find(want, 1, true), 'the health report lacks %q:\n%s', want, text)
          end
          check(not text:find('ERROR', 1, true), 'the health report has an ERROR:\n%s', text)

          -- A broken config is an ERROR with the CLI's message.
          vim.fn.writefile({ '[policy]', 'human_severity = "loud"' }, repo .. '/countersign.toml')
          vim.cmd('silent checkhealth countersign')
          text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
          vim.cmd('bwipeout')
          check(text:find('ERROR countersign.toml is invalid', 1, true), 'a broken countersign.toml passed:\n%s', text)
        end)
        vim.cmd.cd(vim.fn.fnameescape(cwd))
        if not ok then
          error(err, 0)
        end

        -- The help file: copied, so :helptags does not write into the source tree.
        local doc = vim.fn.tempname() .. '-doc'
        vim.fn.mkdir(doc, 'p')
        vim.fn.writefile(vim.fn.readfile(h.repo_root .. '/editors/nvim/doc/countersign.txt', 'b'), doc .. '/countersign.txt', 'b')
        local msgs_before = vim.api.nvim_exec2('messages', { output = true }).output
        vim.cmd.helptags({ args = { vim.fn.fnameescape(doc) }, mods = { emsg_silent = false } })
        local tags = h.read_file(doc .. '/tags') or ''
        vim.fn.delete(doc, 'rf')
        for _, tag in ipairs({ 'countersign.txt', 'countersign-install', 'countersign-setup', 'countersign-commands', ':Countersign', 'countersign-settings', 'countersign-attribution', 'countersign-health', 'countersign-faq' }) do
          check(tags:find('\n' .. vim.pesc(tag) .. '\t') or vim.startswith(tags, tag .. '\t'), 'tags lack %s:\n%s', tag, tags)
        end
        local msgs = vim.api.nvim_exec2('messages', { output = true }).output
        check(not msgs:sub(#msgs_before + 1):find('E154'), 'duplicate tags: %s', msgs)
        return nil
      end),
    },
    {
      name = 'attribution: copilot.vim accept (copilot#Accept expr mapping) marks a one-line insert as AI-written',
      run = with_setup({}, function(repo)
        -- The shape of copilot.vim's autoload: Accept() returns keys that insert
        -- TextQueuedForInsertion() through the expression register.
        local rtp = vim.fn.tempname() .. '-copilot-vim'
        vim.fn.mkdir(rtp .. '/autoload', 'p')
        vim.fn.writefile({
          'let g:autoloaded_copilot = 1',
          'function! copilot#TextQueuedForInsertion() abort',
          "  try | return remove(s:, 'suggestion_text') | catch | return '' | endtry",
          'endfunction',
          'function! copilot#Accept(...) abort',
          "  let s:suggestion_text = 'DROP TABLE users;'",
          '  return "\\<C-R>\\<C-O>=copilot#TextQueuedForInsertion()\\<CR>"',
          'endfunction',
        }, rtp .. '/autoload/copilot.vim')
        vim.opt.runtimepath:append(rtp)
        local buf = attribution_case(repo, 'db/copilot_vim.sql', 'copilot', function(b, row)
          vim.fn['copilot#Accept']() -- loads the autoload file, as copilot.vim's InsertEnter does
          vim.fn['copilot#TextQueuedForInsertion']()
          vim.keymap.set('i', '<Tab>', 'copilot#Accept("\\<Tab>")', { expr = true, replace_keycodes = false, buffer = b })
          vim.api.nvim_win_set_cursor(0, { row + 1, 0 })
          -- silent: the expression register would echo its command line on stdout.
          vim.cmd('silent call feedkeys("A\\<Tab>\\<Esc>", "xt")')
        end)
        vim.opt.runtimepath:remove(rtp)
        vim.fn.delete(rtp, 'rf')
        return buf
      end),
    },
    {
      name = 'attribution: copilot.lua suggestion.accept() (scheduled apply_text_edits) marks a one-line insert as AI-written',
      run = with_setup({}, function(repo)
        -- copilot.lua's accept(): applies the suggestion with apply_text_edits in a scheduled callback.
        local stub = {}
        function stub.accept()
          local row = vim.api.nvim_win_get_cursor(0)[1] - 1
          vim.schedule_wrap(function()
            vim.lsp.util.apply_text_edits({
              { range = { start = { line = row, character = 0 }, ['end'] = { line = row, character = 0 } }, newText = 'DROP TABLE users;' },
            }, vim.api.nvim_get_current_buf(), 'utf-8')
          end)()
        end
        function stub.accept_line()
          stub.accept()
        end
        package.loaded['copilot.suggestion'] = stub
        local buf = attribution_case(repo, 'db/copilot_lua.sql', 'copilot', function(b, row)
          vim.api.nvim_win_set_cursor(0, { row + 1, 0 })
          vim.cmd('startinsert')
          vim.api.nvim_exec_autocmds('InsertEnter', { buffer = b }) -- the hook wraps lazily loaded modules here
          vim.cmd('stopinsert')
          require('copilot.suggestion').accept()
          wait_for('the suggestion to be applied', function()
            return vim.api.nvim_buf_get_lines(b, row, row + 1, false)[1] == 'DROP TABLE users;'
          end)
        end)
        package.loaded['copilot.suggestion'] = nil
        return buf
      end),
    },
    {
      name = 'attribution: avante.nvim edit (User AvanteEditingInputStart/StopSpinner) marks a one-line insert as AI-written',
      run = with_setup({}, function(repo)
        return (attribution_case(repo, 'db/avante.sql', 'avante', function(b, row)
          vim.api.nvim_exec_autocmds('User', { pattern = 'AvanteEditingInputStartSpinner' })
          vim.api.nvim_buf_set_lines(b, row, row + 1, true, { 'DROP TABLE users;' }) -- on_chunk's write
          vim.api.nvim_exec_autocmds('User', { pattern = 'AvanteEditingInputStopSpinner' })
        end))
      end),
    },
    {
      name = 'attribution: codecompanion.nvim inline (User CodeCompanionInlineStarted/Finished) marks a one-line insert as AI-written',
      run = with_setup({}, function(repo)
        return (attribution_case(repo, 'db/codecompanion.sql', 'codecompanion', function(b, row)
          vim.api.nvim_exec_autocmds('User', { pattern = 'CodeCompanionInlineStarted', data = { bufnr = b } })
          vim.api.nvim_exec_autocmds('User', { pattern = 'CodeCompanionInlineFinished', data = { bufnr = b } })
          -- Inline:done() writes the answer right after firing InlineFinished.
          vim.api.nvim_buf_set_text(b, row, 0, row, 0, { 'DROP TABLE users;' })
        end))
      end),
    },
    {
      name = 'multibyte line, client offers only utf-16, setup{} path: column right, aiEdit ranges converted to utf-16',
      run = with_setup({ capabilities = { general = { positionEncodings = { 'utf-16' } } } }, function(repo)
        local buf = h.edit(repo, 'db/utf16.sql')
        local client = attached(buf, repo)
        check(client.offset_encoding == 'utf-16', 'negotiated %s', client.offset_encoding)
        vim.api.nvim_buf_set_text(buf, 0, 0, 0, 0, { '-- ünïcödé 🚀', "SELECT 'é'; " })
        vim.wait(250)
        -- The agent writes the statement after the multibyte text, in one single-line change
        -- (the bulk heuristic stays out of it): only the aiEdit makes it AI-written, and its
        -- range must be in utf-16 code units (byte 13 is character 12).
        vim.api.nvim_exec_autocmds('User', { pattern = 'CodeCompanionInlineStarted' })
        vim.api.nvim_buf_set_text(buf, 1, 13, 1, 13, { 'DROP TABLE users;' })
        vim.api.nvim_exec_autocmds('User', { pattern = 'CodeCompanionInlineFinished' })
        local d = h.expect_drop_error(buf, client)
        check(d.message:find('written by codecompanion', 1, true), 'not attributed to the aiEdit: %q', d.message)
        check(
          h.sent_contains(client, 'countersign/aiEdit v') and table.concat(h.trace().sent, '\n'):find(' [1:12-1:29] codecompanion', 1, true),
          'the aiEdit range is not 1:12-1:29 (utf-16):\n%s',
          table.concat(h.trace().sent, '\n')
        )
        local lsp = d.user_data.lsp.range.start
        check(lsp.line == 1 and lsp.character == 12, 'utf-16 start is %d:%d, expected 1:12', lsp.line, lsp.character)
        check(d.col == 13, 'byte column %d, expected 13', d.col)
        return buf
      end),
    },
    {
      name = 'multibyte line, default capabilities (utf-8), setup{} path: byte column right',
      run = with_setup({}, function(repo)
        local buf = h.edit(repo, 'db/utf8.sql')
        local client = attached(buf, repo)
        check(client.offset_encoding == 'utf-8', 'negotiated %s', client.offset_encoding)
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, { '-- ünïcödé 🚀', "SELECT 'é'; DROP TABLE users;" })
        local d = h.expect_drop_error(buf, client)
        local lsp = d.user_data.lsp.range.start
        check(lsp.line == 1 and lsp.character == 13 and d.col == 13, 'utf-8 start is %d:%d (byte col %d), expected 1:13', lsp.line, lsp.character, d.col)
        return buf
      end),
    },
  }
end
