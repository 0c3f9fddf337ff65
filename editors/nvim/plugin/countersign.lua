-- :Countersign request|approve|pending|blame|log, and the client-side handler that asks for a
-- reason when the "Request senior sign-off" code action runs. Starting the server is left to
-- require('countersign').setup{} or vim.lsp.enable('countersign').
if vim.g.loaded_countersign then
  return
end
vim.g.loaded_countersign = true

vim.api.nvim_create_user_command('Countersign', function(args)
  require('countersign.commands').run(args)
end, {
  nargs = 1,
  desc = 'Countersign: request, approve, pending, blame, log',
  complete = function(arglead, cmdline)
    -- Only the first argument is a subcommand.
    if cmdline:match('^%s*%S+%s+%S+%s') then
      return {}
    end
    return require('countersign.commands').complete(arglead)
  end,
})

require('countersign.commands').register_handlers()
