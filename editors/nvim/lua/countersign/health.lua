-- :checkhealth countersign — can this Neovim run the server, and can this user request and
-- approve sign-offs in this repository?

local M = {}

local health = vim.health

local function run(cmd, cwd)
  local ok, r = pcall(function()
    return vim.system(cmd, { cwd = cwd, text = true }):wait(10000)
  end)
  if not ok then
    return { code = -1, stdout = '', stderr = tostring(r) }
  end
  return r
end

local function trim(s)
  return vim.trim(s or '')
end

--- The binary the server runs with: the running client's, the configured one, or $PATH's.
local function binary()
  local countersign = require('countersign')
  local client = countersign.clients()[1]
  local cmd = client and client.config.cmd or countersign.options.cmd
  if type(cmd) ~= 'table' and vim.lsp.config then
    local ok, resolved = pcall(function()
      return vim.lsp.config.countersign
    end)
    cmd = ok and resolved and resolved.cmd
  end
  if type(cmd) ~= 'table' then
    cmd = { 'countersign' }
  end
  return cmd[1], client
end

--- The repository to check: the git repository of the working directory, else the root of a
--- running server.
local function repository(client)
  local r = run({ 'git', 'rev-parse', '--show-toplevel' }, vim.fn.getcwd())
  if r.code == 0 then
    return vim.uv.fs_realpath(trim(r.stdout)) or trim(r.stdout)
  end
  return client and client.root_dir
end

local function git_config(repo, key)
  local r = run({ 'git', 'config', '--get', key }, repo or vim.fn.getcwd())
  return r.code == 0 and trim(r.stdout) or nil
end

--- "type base64" of the public key git signs with, or nil and why not.
local function signing_public_key(repo)
  local key = git_config(repo, 'user.signingkey')
  if not key then
    for _, name in ipairs({ 'id_ed25519', 'id_ecdsa', 'id_rsa' }) do
      local path = vim.fs.normalize('~/.ssh/' .. name .. '.pub')
      if vim.uv.fs_stat(path) then
        key = path
        break
      end
    end
    if not key then
      return nil, 'no user.signingkey and no ~/.ssh/id_ed25519.pub'
    end
  end
  local text
  if key:match('^key::') then
    text = key:sub(6)
  elseif key:match('^ssh%-') or key:match('^ecdsa%-') then
    text = key
  else
    local path = vim.fs.normalize(key)
    if not path:match('%.pub$') and vim.uv.fs_stat(path .. '.pub') then
      path = path .. '.pub'
    end
    local f = io.open(path, 'r')
    if not f then
      return nil, ('user.signingkey %s is not readable'):format(key)
    end
    text = f:read('*l') or ''
    f:close()
  end
  local kind, blob = text:match('^(%S+)%s+(%S+)')
  if not kind then
    return nil, ('%s holds no SSH public key'):format(key)
  end
  return kind .. ' ' .. blob, key
end

function M.check()
  health.start('Neovim')
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok(('Neovim %s'):format(tostring(vim.version())))
  else
    health.error('Neovim 0.10 or newer is needed', { 'Upgrade Neovim.' })
  end

  health.start('countersign binary')
  local bin, client = binary()
  local path = vim.fn.exepath(bin)
  if path == '' then
    health.error(('%s is not executable or not on $PATH'):format(bin), {
      'Install it: cargo install --path server (from the Countersign repository), or a release binary.',
      "Or point the plugin at it: require('countersign').setup{ cmd = { '/path/to/countersign', 'lsp' } }",
    })
    return
  end
  health.ok('found ' .. path)
  local v = run({ path, '--version' })
  if v.code == 0 then
    health.ok('version: ' .. trim(v.stdout))
  else
    health.error(('%s --version failed (exit %d): %s'):format(path, v.code, trim(v.stderr)))
  end

  health.start('language server')
  if client then
    health.ok(('running (client %d), root %s, position encoding %s'):format(client.id, tostring(client.root_dir), tostring(client.offset_encoding)))
  else
    health.info("not running in this session (it starts when a supported file opens; see :help countersign-setup)")
  end

  health.start('repository')
  local repo = repository(client)
  if not repo then
    health.warn('not in a git repository: sign-off requests are stored in the repository', {
      'Open files inside a git repository, or run `git init`.',
    })
    return
  end
  health.ok('git repository: ' .. repo)

  local toml = repo .. '/countersign.toml'
  if vim.uv.fs_stat(toml) then
    -- Scanning an empty directory is the cheapest run that loads and validates the config.
    local empty = vim.fn.tempname()
    vim.fn.mkdir(empty, 'p')
    local r = run({ path, 'scan', '--config', toml, empty })
    vim.fn.delete(empty, 'rf')
    if r.code == 0 then
      health.ok('countersign.toml is valid')
    else
      health.error('countersign.toml is invalid: ' .. trim(r.stderr ~= '' and r.stderr or r.stdout), {
        'Fix the file; `countersign scan --config countersign.toml` shows the same message.',
      })
    end
  else
    health.info('no countersign.toml: the built-in rules and defaults apply')
  end

  health.start('signing (approving sign-offs)')
  local format = git_config(repo, 'gpg.format')
  if format == 'ssh' then
    health.ok('git signs with SSH keys (gpg.format ssh)')
  else
    health.warn(('gpg.format is %s: approvals are SSH signatures'):format(format or 'unset'), {
      'git config --global gpg.format ssh',
    })
  end
  local pub, source = signing_public_key(repo)
  if not pub then
    health.warn('no SSH signing key: ' .. source, {
      'git config --global user.signingkey ~/.ssh/id_ed25519.pub',
      'Requesting sign-offs needs no key; approving does.',
    })
  else
    health.ok('signing key: ' .. source)
    local agent = run({ 'ssh-add', '-L' })
    if agent.code == 0 and agent.stdout:find(pub, 1, true) then
      health.ok('the key is loaded in ssh-agent')
    elseif not source:match('%.pub$') or vim.uv.fs_stat((source:gsub('%.pub$', ''))) then
      health.ok('the private key is on disk (ssh-keygen may ask for its passphrase)')
    else
      health.warn('the key is neither in ssh-agent nor beside its .pub', { 'ssh-add ' .. source:gsub('%.pub$', '') })
    end

    local signers = repo .. '/.countersign/allowed_signers'
    local lines = vim.uv.fs_stat(signers) and vim.fn.readfile(signers) or nil
    if not lines then
      health.warn('no .countersign/allowed_signers: nobody can approve in this repository', {
        'Add one line per senior: `<email> <ssh public key>` (git allowed_signers format).',
      })
    else
      local principal
      for _, line in ipairs(lines) do
        if not line:match('^%s*#') and line:find(pub, 1, true) then
          principal = line:match('^%s*(%S+)')
          break
        end
      end
      if principal then
        health.ok(('you are a senior here: your key is in .countersign/allowed_signers as %s'):format(principal))
      else
        health.info('your key is not in .countersign/allowed_signers: you can request sign-offs, not approve them')
      end
    end
  end
end

return M
